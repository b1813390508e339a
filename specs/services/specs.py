"""A spec's sections: create (version 1) and save (a new version each time,
checked against the version the editor started from)."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from backlog.models import Item
from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import VersionConflict
from pmhub.versioning import save_versioned

from ..models import SECTION_NAMES, Spec, SpecVersion
from .reviews import record_spec_event, refresh_state

MAX_SECTION = 20_000


def clean_sections(fields: dict) -> dict:
    """Section texts, stripped and checked: known names only, at most
    MAX_SECTION characters each, no NUL. ValidationError with field messages."""
    unknown = set(fields) - set(SECTION_NAMES)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be set here."))
    cleaned, errors = {}, {}
    for name, value in fields.items():
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[name] = "Give text (Markdown)."
            continue
        value = value.replace("\r\n", "\n").strip()
        if len(value) > MAX_SECTION:
            errors[name] = f"This section is too long ({MAX_SECTION} characters at most)."
        elif "\x00" in value:
            errors[name] = "The text contains a NUL character."
        cleaned[name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _snapshot(spec: Spec, actor) -> None:
    SpecVersion.objects.create(
        spec=spec,
        number=spec.version,
        sections=spec.sections(),
        author=actor if getattr(actor, "is_authenticated", False) else None,
    )


@transaction.atomic
def create_spec(actor, *, item: Item, **sections) -> Spec:
    """Give an item (or epic) its spec. An item has at most one: a second
    is refused with an ``item`` message."""
    require_editor(actor, item.product.workspace)
    sections = clean_sections(sections)
    taken = "This item already has a spec; edit that one."
    if Spec.objects.filter(item=item).exists():
        raise ValidationError({"item": taken})
    try:
        with transaction.atomic():
            spec = Spec.objects.create(
                item=item,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                **sections,
            )
    except IntegrityError:  # created concurrently
        raise ValidationError({"item": taken}) from None
    spec.item = item
    _snapshot(spec, actor)
    record_spec_event(actor, "spec.created", spec, changes={"state": [None, spec.state]})
    return spec


@transaction.atomic
def update_spec(actor, *, spec: Spec, expected_version: int | None, fields: dict) -> Spec:
    """Save sections (a new version). A save that changes nothing writes
    nothing. Approvals given before it go stale (``reviews.refresh_state``)."""
    require_editor(actor, spec.item.product.workspace)
    fields = clean_sections(fields)
    changed = {k: v for k, v in fields.items() if getattr(spec, k) != v}
    if not changed:
        if expected_version is not None and expected_version != spec.version:
            raise VersionConflict(current=Spec.objects.filter(pk=spec.pk).first())
        return spec
    old = activity.values_of(spec, changed)
    spec = save_versioned(spec, expected_version=expected_version, fields=changed)
    _snapshot(spec, actor)
    # Long texts are not copied into the event: the versions hold them.
    record_spec_event(
        actor, "spec.updated", spec, changes={k: [len(old[k]), len(v)] for k, v in changed.items()}
    )
    refresh_state(spec)
    return spec
