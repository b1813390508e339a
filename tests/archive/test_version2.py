"""Archive version 2: discussions, specs and questions, what is left out of
them and why, and version 1 archives (with their item history part)."""

import hashlib
import io
import json
import zipfile

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from archive.models import ArchiveJob
from archive.services import import_into_new_workspace
from discussions import registry
from discussions.models import Comment, EmailPreference, EmailState, Notification
from pmhub.accounts.models import Membership
from pmhub.activity.models import Event
from questions.models import AnswerEmail, Question, QuestionVote
from roadmaps.models import ShareLink
from specs.models import Spec

from .conftest import contents, export_bytes, owner_of, upload
from .generate import add_every_kind_of_object

# The parts version 2 added.
NEW_IN_2 = {
    "specs",
    "spec_versions",
    "spec_reviews",
    "question_settings",
    "questions",
    "question_votes",
    "answer_emails",
    "discussion_settings",
    "comments",
    "reactions",
    "watches",
    "notification_preferences",
    "notifications",
}


def do_import(workspace, data, capture):
    with capture(execute=True):
        job = import_into_new_workspace(owner_of(workspace), name="Copy", upload=upload(data))
    job.refresh_from_db()
    assert job.state == ArchiveJob.State.DONE, job.error
    return job.workspace


def rows(data: bytes, part: str) -> list[dict]:
    return [json.loads(line) for line in contents(data)[f"{part}.jsonl"].splitlines()]


def as_version_1(data: bytes, item_history: list[dict]) -> bytes:
    """The archive as a version 1 server wrote it: none of version 2's parts,
    and an item_history part."""
    src = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(src.read("manifest.json"))
    kept = [e for e in manifest["parts"] if e["name"] not in NEW_IN_2]
    history = b"".join(json.dumps(r).encode() + b"\n" for r in item_history)
    kept.insert(
        kept.index(next(e for e in kept if e["name"] == "score_changes")),
        {
            "name": "item_history",
            "file": "item_history.jsonl",
            "model": "backlog.historicalitem",
            "rows": len(item_history),
            "sha256": hashlib.sha256(history).hexdigest(),
        },
    )
    manifest.update(schema_version=1, parts=kept)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for e in kept:
            if e["name"] != "item_history":
                dst.writestr(e["file"], src.read(e["file"]))
        dst.writestr("item_history.jsonl", history)
        dst.writestr("manifest.json", json.dumps(manifest))
    return buf.getvalue()


HISTORY_ROW = {"id": 1, "history_id": 1, "title": "Old title", "history_type": "~"}


def test_a_version_1_archive_with_item_history_imports_without_it(
    demo, django_capture_on_commit_callbacks
):
    first = export_bytes(demo)
    old = as_version_1(first, [HISTORY_ROW])
    copy = do_import(demo, old, django_capture_on_commit_callbacks)
    again = export_bytes(copy)
    # Everything a version 1 archive has comes back (events about comments or
    # specs now name no object); the item history is the events part's item.*.
    for name in ("items.jsonl", "item_tags.jsonl", "share_links.jsonl"):
        assert contents(again)[name] == contents(first)[name]
    assert len(rows(again, "events")) == len(rows(first, "events"))
    assert Event.objects.filter(workspace=copy, verb__startswith="item.").exists()
    assert not Spec.objects.filter(item__product__workspace=copy).exists()


def test_a_damaged_item_history_part_of_a_version_1_archive_is_still_refused(
    demo, django_capture_on_commit_callbacks
):
    old = as_version_1(export_bytes(demo), [HISTORY_ROW])
    zf = zipfile.ZipFile(io.BytesIO(old))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in zf.namelist():
            body = zf.read(name)
            dst.writestr(name, b"{}\n" if name == "item_history.jsonl" else body)
    with django_capture_on_commit_callbacks(execute=True):
        job = import_into_new_workspace(owner_of(demo), name="Copy", upload=upload(buf.getvalue()))
    job.refresh_from_db()
    assert job.state == ArchiveJob.State.FAILED
    assert "item_history.jsonl does not match its checksum" in job.error


def test_a_version_2_archive_with_an_item_history_part_is_refused(demo):
    data = export_bytes(demo)
    src = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(src.read("manifest.json"))
    manifest["parts"].append(
        {"name": "item_history", "file": "items.jsonl", "model": "x", "rows": 0, "sha256": ""}
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            if name != "manifest.json":
                dst.writestr(name, src.read(name))
        dst.writestr("manifest.json", json.dumps(manifest))
    with pytest.raises(ValidationError, match="does not know: item_history"):
        import_into_new_workspace(owner_of(demo), name="Copy", upload=upload(buf.getvalue()))


def test_discussions_specs_and_questions_come_across_with_new_ids(
    demo, django_capture_on_commit_callbacks
):
    add_every_kind_of_object(demo)
    data = export_bytes(demo)
    copy = do_import(demo, data, django_capture_on_commit_callbacks)

    old_specs = Spec.objects.filter(item__product__workspace=demo).count()
    assert Spec.objects.filter(item__product__workspace=copy).count() == old_specs > 0
    # Comments point at the copy's objects, mentions at the same people.
    copied_comments = Comment.objects.filter(workspace=copy)
    assert copied_comments.count() == Comment.objects.filter(workspace=demo).count() > 0
    for comment in copied_comments.filter(object_type="backlog.item"):
        item = registry.get("backlog.item").queryset().get(pk=comment.object_id)
        assert item.product.workspace == copy
    mentioned = [m for c in Comment.objects.filter(workspace=demo) for m in c.mentions]
    copied = [m for c in Comment.objects.filter(workspace=copy) for m in c.mentions]
    assert sorted(m["id"] for m in copied) == sorted(m["id"] for m in mentioned)
    # A notification's event and link are the copy's.
    note = Notification.objects.filter(workspace=copy).exclude(event_id=None).get()
    assert Event.objects.get(pk=note.event_id).workspace == copy
    kind = registry.get(note.object_type)
    assert note.url == kind.url(kind.queryset().get(pk=note.object_id))
    assert f"/{copy.slug}/" in note.url
    # The live share link stays live (with a new token).
    old_link = ShareLink.objects.filter(roadmap__workspace=demo, live=True).get()
    new_link = ShareLink.objects.filter(roadmap__workspace=copy, live=True).get()
    assert new_link.token_hash != old_link.token_hash


def test_what_an_import_could_not_use_or_would_email_again_is_left_out(
    demo, django_capture_on_commit_callbacks
):
    owner = owner_of(demo)
    question = Question.objects.filter(share_link__roadmap__workspace=demo).first()
    Question.objects.filter(pk=question.pk).update(verified_at=timezone.now())
    unconfirmed = Question.objects.create(
        share_link=question.share_link,
        entry=question.entry,
        text="Never confirmed?",
        email="who@example.com",
    )
    QuestionVote.objects.create(question=question, email="nope@example.com")
    AnswerEmail.objects.create(question=question, email="later@example.com", answer_version=2)
    comment = Comment.objects.filter(workspace=demo).first()
    for state in (EmailState.PENDING, EmailState.DIGEST):
        Notification.objects.create(
            workspace=demo,
            recipient=owner,
            kind="comment" if state == EmailState.DIGEST else "mention",
            verb="comment.created",
            object_type=comment.object_type,
            object_id=comment.object_id,
            email_state=state,
        )
    data = export_bytes(demo)
    assert "Never confirmed?" not in [r["text"] for r in rows(data, "questions")]
    assert "nope@example.com" not in [r["email"] for r in rows(data, "question_votes")]
    assert rows(data, "answer_emails") == []
    assert {r["email_state"] for r in rows(data, "notifications")} == {""}
    assert all("url" not in r and "claimed_at" not in r for r in rows(data, "notifications"))

    mail.outbox.clear()
    copy = do_import(demo, data, django_capture_on_commit_callbacks)
    assert mail.outbox == []  # nothing emailed about the old workspace's work
    assert not Question.objects.filter(share_link__roadmap__workspace=copy, verified_at=None)
    assert unconfirmed.pk
    assert not Notification.objects.filter(workspace=copy).exclude(email_state="").exists()
    assert Notification.objects.filter(workspace=copy, recipient=owner).count() == 2


def test_a_person_of_this_server_keeps_their_notification_choices(
    demo, django_capture_on_commit_callbacks
):
    owner = owner_of(demo)
    other = Membership.objects.filter(workspace=demo).exclude(user=owner).first().user
    EmailPreference.objects.create(user=owner, kind="comment", delivery="off")
    EmailPreference.objects.create(user=other, kind="status", delivery="immediate")
    data = export_bytes(demo)
    assert len(rows(data, "notification_preferences")) == 2
    # Between export and import, the owner changes their mind here.
    EmailPreference.objects.filter(user=owner).update(delivery="digest")
    do_import(demo, data, django_capture_on_commit_callbacks)
    assert EmailPreference.objects.get(user=owner, kind="comment").delivery == "digest"
    assert EmailPreference.objects.filter(user=other).count() == 1
