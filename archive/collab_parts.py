"""The parts of specs/, questions/ and discussions/ (archive version 2).

What is left out, and why (docs/archive.md says the same for people):

- questions and +1s nobody confirmed: their confirmation links are signed
  with this server's key and row ids, so they could never be confirmed
  after an import;
- answer emails not sent yet, and every claim: sending is the exporting
  server's work, an import sends no email about old answers;
- notifications waiting for an email or the digest are archived as not to
  be emailed, for the same reason (they stay unread in the inbox);
- a notification's link is not archived: the import builds it again from
  the new ids and workspace.
"""

from .parts import USER_MODEL, Part

SPEC = "spec__item__product__workspace"
LINK = "share_link__roadmap__workspace"


def _dump_object(row, ctx):
    # object_id names a row of the table object_type names.
    row["object_id"] = ctx.archive_id(row["object_type"], row["object_id"])
    return row


def _load_object(row, ctx):
    row["object_id"] = ctx.new_id(row["object_type"], row.get("object_id"), missing_ok=True)
    # About an object that is not in the archive (deleted): nothing to show it on.
    return row if row["object_id"] is not None else None


def _load_reaction(row, ctx):
    found = ctx.new_id("discussions.comment", row.get("comment"), missing_ok=True)
    return row if found is not None else None


def _dump_comment(row, ctx):
    row["mentions"] = [
        {**m, "id": ctx.archive_id(USER_MODEL, m.get("id"))} for m in row["mentions"] or []
    ]
    return _dump_object(row, ctx)


def _load_comment(row, ctx):
    mentions = row.get("mentions")
    if not isinstance(mentions, list) or not all(isinstance(m, dict) for m in mentions):
        mentions = []
    row["mentions"] = [
        {**m, "id": ctx.new_id(USER_MODEL, m.get("id"), missing_ok=True)} for m in mentions
    ]
    return _load_object(row, ctx)


def _dump_notification(row, ctx):
    from discussions.models import EmailState

    if row["email_state"] in (EmailState.PENDING, EmailState.DIGEST):
        row["email_state"] = EmailState.NONE
    return _dump_object(row, ctx)


def _notification_links(workspace):
    """The imported notifications' links, from the new ids."""
    from discussions import registry
    from discussions.models import Notification

    rows = Notification.objects.filter(workspace=workspace).values_list(
        "pk", "object_type", "object_id"
    )
    by_type: dict[str, dict[int, list[int]]] = {}
    for pk, label, object_id in rows:
        by_type.setdefault(label, {}).setdefault(object_id, []).append(pk)
    for label, objects in by_type.items():
        kind = registry.get(label)
        if kind is None:
            continue
        for obj in kind.queryset().filter(pk__in=list(objects)):
            Notification.objects.filter(pk__in=objects[obj.pk]).update(url=kind.url(obj)[:300])


def _members_preferences(qs, workspace):
    from pmhub.accounts.models import Membership

    return qs.filter(
        user__in=Membership.objects.filter(workspace=workspace).values("user")
    ).order_by("pk")


def _load_preference(row, ctx):
    from discussions.models import EmailPreference

    user = ctx.new_id(USER_MODEL, row.get("user"))
    # A person of this server keeps the choices they made here.
    if EmailPreference.objects.filter(user_id=user, kind=row.get("kind")).exists():
        return None
    return row


def _confirmed(qs, workspace):
    return qs.filter(verified_at__isnull=False)


def _confirmed_votes(qs, workspace):
    return qs.filter(verified_at__isnull=False, question__verified_at__isnull=False)


def _sent(qs, workspace):
    return qs.filter(sent_at__isnull=False, question__verified_at__isnull=False)


def spec_parts() -> list[Part]:
    # Links to objectives are the items' (the item_objectives part).
    return [
        Part("specs", "specs.spec", "item__product__workspace"),
        Part("spec_versions", "specs.specversion", SPEC),
        Part("spec_reviews", "specs.specreview", SPEC),
    ]


def question_parts() -> list[Part]:
    return [
        Part("question_settings", "questions.questionsettings", LINK),
        Part("questions", "questions.question", LINK, rows=_confirmed),
        Part(
            "question_votes", "questions.questionvote", "question__" + LINK, rows=_confirmed_votes
        ),
        Part(
            "answer_emails",
            "questions.answeremail",
            "question__" + LINK,
            exclude=("claimed_at",),
            rows=_sent,
        ),
    ]


def discussion_parts() -> list[Part]:
    """Everything but the notifications, which name events (after them)."""
    return [
        Part("discussion_settings", "discussions.discussionsettings", "workspace"),
        Part(
            "comments",
            "discussions.comment",
            "workspace",
            dump=_dump_comment,
            load=_load_comment,
        ),
        Part("reactions", "discussions.reaction", "comment__workspace", load=_load_reaction),
        Part("watches", "discussions.watch", "workspace", dump=_dump_object, load=_load_object),
        Part(
            "notification_preferences",
            "discussions.emailpreference",
            "",
            rows=_members_preferences,
            load=_load_preference,
        ),
    ]


def notification_parts() -> list[Part]:
    return [
        Part(
            "notifications",
            "discussions.notification",
            "workspace",
            exclude=("url",),
            id_columns={"event_id": "activity.event"},
            dump=_dump_notification,
            load=_load_object,
            finish=_notification_links,
        ),
    ]
