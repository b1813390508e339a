"""Who watches what: the creator and the owner implicitly (the type's
registry entry says who they are), everyone who comments or is mentioned,
and whoever presses Watch. An unwatch is a row too, so the creator can stop."""

from django.db import transaction
from django.utils import timezone

from pmhub import activity

from .. import registry
from ..models import Watch


def watch_implicitly(workspace, object_type: str, object_id: int, user_ids) -> None:
    """Make ``user_ids`` watch an object, leaving an explicit unwatch of a
    mentioned person alone (one INSERT, conflicts ignored)."""
    ids = list(dict.fromkeys(i for i in user_ids if i))
    if not ids:
        return
    Watch.objects.bulk_create(
        [
            Watch(workspace=workspace, user_id=i, object_type=object_type, object_id=object_id)
            for i in ids
        ],
        ignore_conflicts=True,
    )


def is_watching(user, kind: registry.Commentable, obj) -> bool:
    row = Watch.objects.filter(user=user, object_type=kind.label, object_id=obj.pk).first()
    if row is not None:
        return row.watching
    return user.pk in kind.implicit_watchers([obj.pk]).get(obj.pk, set())


@transaction.atomic
def set_watch(actor, *, workspace, object_type: str, object_id: int, watching: bool) -> Watch:
    """Watch or unwatch an object of ``workspace`` (members only)."""
    from .comments import membership_of

    membership_of(actor, workspace)
    kind, obj = registry.find(object_type, workspace, object_id)
    now = timezone.now()
    row, created = Watch.objects.get_or_create(
        user=actor,
        object_type=kind.label,
        object_id=obj.pk,
        defaults={"workspace": workspace, "watching": watching, "updated_at": now},
    )
    if not created and row.watching != watching:
        Watch.objects.filter(pk=row.pk).update(watching=watching, updated_at=now)
        row.watching, row.updated_at = watching, now
    activity.record(
        workspace,
        "watch.changed",
        obj,
        object_type=kind.label,
        object_key=kind.key(obj),
        object_title=kind.title(obj),
        product=kind.product_id(obj),
        changes={"watching": [None, watching]},
        version=None,
        actor=actor,
    )
    return row


def watchers_of(pairs: set[tuple[str, int]]) -> dict[tuple[str, int], set[int]]:
    """{(type, id): {user ids}} of everyone watching each object: one query
    for the explicit rows, one per type for the implicit watchers."""
    found: dict[tuple[str, int], set[int]] = {pair: set() for pair in pairs}
    if not pairs:
        return found
    by_type: dict[str, list[int]] = {}
    for label, oid in pairs:
        by_type.setdefault(label, []).append(oid)
    for label, ids in by_type.items():
        kind = registry.get(label)
        if kind is None:
            continue
        for oid, users in kind.implicit_watchers(ids).items():
            found.setdefault((label, oid), set()).update(users)
    rows = Watch.objects.filter(
        object_type__in=list(by_type), object_id__in=[oid for _l, oid in pairs]
    ).values_list("object_type", "object_id", "user_id", "watching")
    for label, oid, uid, watching in rows:
        if (label, oid) not in found:
            continue
        (found[(label, oid)].add if watching else found[(label, oid)].discard)(uid)
    return found
