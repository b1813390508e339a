"""Comments, mentions, reactions, watching: the services and their events."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from discussions import services
from discussions.models import MAX_BODY, Comment, Watch
from pmhub.activity.models import Event
from pmhub.errors import VersionConflict
from tests.factories import MembershipFactory, UserFactory


def post(actor, item, body, **kw):
    return services.post_comment(
        actor,
        workspace=item.product.workspace,
        object_type="backlog.item",
        object_id=item.pk,
        body=body,
        **kw,
    )


def test_a_comment_records_its_event_with_the_item_as_parent(pm, item):
    comment = post(pm, item, "Looks **good**")

    event = Event.objects.get(verb="comment.created")
    assert (event.object_type, event.object_id) == ("discussions.comment", comment.pk)
    assert (event.parent_type, event.parent_id) == ("backlog.item", item.pk)
    assert event.object_key == item.key
    assert event.changes["body"] == [None, "Looks **good**"]
    assert comment.body_html == "<p>Looks <strong>good</strong></p>"


def test_script_and_html_are_sanitized(pm, item):
    comment = post(
        pm, item, "<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3))"
    )
    assert "<script" not in comment.body_html
    assert "onerror" not in comment.body_html
    assert "javascript:" not in comment.body_html


def test_a_reply_to_a_reply_joins_the_thread(pm, teammate, item):
    top = post(pm, item, "Question")
    reply = post(teammate, item, "Answer", parent_id=top.pk)
    again = post(pm, item, "Thanks", parent_id=reply.pk)
    assert reply.parent_id == top.pk
    assert again.parent_id == top.pk


def test_a_reply_to_another_objects_comment_is_refused(pm, item, product):
    from tests.backlog.factories import make_item

    other = make_item(product, pm, title="Other")
    elsewhere = post(pm, other, "Elsewhere")
    with pytest.raises(ValidationError) as exc:
        post(pm, item, "Reply", parent_id=elsewhere.pk)
    assert "parent" in exc.value.message_dict


def test_ten_thousand_characters_and_more_are_refused_clearly(pm, item):
    post(pm, item, "x" * MAX_BODY)
    with pytest.raises(ValidationError) as exc:
        post(pm, item, "x" * (MAX_BODY + 1))
    assert "at most 10,000 characters" in exc.value.message_dict["body"][0]
    with pytest.raises(ValidationError):
        post(pm, item, "   ")


def test_another_workspaces_object_is_404(stranger, item):
    with pytest.raises(Http404):
        post(stranger, item, "hi")
    own_ws = stranger.memberships.get().workspace
    with pytest.raises(Http404):
        services.post_comment(
            stranger, workspace=own_ws, object_type="backlog.item", object_id=item.pk, body="hi"
        )


def test_unknown_type_is_404(pm, item):
    with pytest.raises(Http404):
        services.post_comment(
            pm, workspace=item.product.workspace, object_type="auth.user", object_id=1, body="x"
        )


def test_viewers_comment_unless_the_workspace_restricts_it(pm, viewer, item, workspace):
    post(viewer, item, "A viewer's question")
    services.set_editors_only(pm, workspace=workspace, editors_only=True)
    with pytest.raises(PermissionDenied):
        post(viewer, item, "Again")
    assert Event.objects.filter(verb="discussion_settings.updated").count() == 1


def test_only_admins_change_who_may_comment(teammate, workspace):
    with pytest.raises(PermissionDenied):
        services.set_editors_only(teammate, workspace=workspace, editors_only=True)


def test_mentions_of_members_are_marked_and_others_stay_plain_text(pm, teammate, item, stranger):
    comment = post(pm, item, f"@{teammate.username} and @{stranger.username} and @nobody, look")
    assert comment.mentions == [{"id": teammate.pk, "username": teammate.username}]
    assert f'<span class="mention">@{teammate.username}</span>' in comment.body_html
    assert f"@{stranger.username}" in comment.body_html  # plain text, nothing revealed
    assert 'mention">@stranger' not in comment.body_html
    assert Watch.objects.filter(user=teammate, object_id=item.pk, watching=True).exists()


def test_an_email_address_is_not_a_mention(pm, teammate, item):
    comment = post(pm, item, f"mail ops{teammate.username}@x.com or x@{teammate.username}")
    assert comment.mentions == []


def test_mention_spam_is_refused(pm, item, workspace):
    names = [MembershipFactory(workspace=workspace).user.username for _ in range(21)]
    with pytest.raises(ValidationError) as exc:
        post(pm, item, " ".join(f"@{n}" for n in names))
    assert "at most 20" in exc.value.message_dict["body"][0]
    assert not Comment.objects.exists()


def test_a_member_who_cannot_see_the_object_is_refused_by_name(pm, teammate, item, monkeypatch):
    from dataclasses import replace

    from discussions import registry

    kind = registry.get("backlog.item")
    narrow = replace(kind, can_see=lambda user, obj: user.pk != teammate.pk)
    monkeypatch.setitem(registry._TYPES, "backlog.item", narrow)
    with pytest.raises(ValidationError) as exc:
        post(pm, item, f"@{teammate.username} see this")
    assert f"@{teammate.username} cannot see this item" in exc.value.message_dict["body"][0]


def test_edit_keeps_the_old_text_in_the_history_and_marks_edited(pm, item):
    comment = post(pm, item, "First")
    edited = services.edit_comment(pm, comment=comment, body="Second", expected_version=1)
    assert edited.edited_at is not None and edited.version == 2
    event = Event.objects.get(verb="comment.edited")
    assert event.changes["body"] == ["First", "Second"]
    with pytest.raises(VersionConflict):
        services.edit_comment(pm, comment=Comment.objects.get(), body="Third", expected_version=1)


def test_only_the_author_edits_or_deletes(pm, teammate, item):
    comment = post(pm, item, "Mine")
    with pytest.raises(PermissionDenied):
        services.edit_comment(teammate, comment=comment, body="Theirs", expected_version=None)
    with pytest.raises(PermissionDenied):
        services.delete_comment(teammate, comment=comment, expected_version=None)


def test_delete_keeps_replies_and_the_text_in_the_event(pm, teammate, item):
    top = post(pm, item, "Secret plan")
    post(teammate, item, "Reply", parent_id=top.pk)
    services.add_reaction(teammate, comment=top, emoji="👍")
    deleted = services.delete_comment(pm, comment=top, expected_version=None)
    assert deleted.body == "" and deleted.deleted_at is not None
    assert not deleted.reactions.exists()
    assert Event.objects.get(verb="comment.deleted").changes["body"] == ["Secret plan", None]
    assert Comment.objects.filter(parent=top).count() == 1


def test_reactions_toggle_once_per_person_and_emoji(pm, teammate, item):
    comment = post(pm, item, "Ship it")
    assert services.toggle_reaction(teammate, comment=comment, emoji="🎉") is True
    services.add_reaction(teammate, comment=comment, emoji="🎉")  # again: nothing new
    assert comment.reactions.count() == 1
    assert services.toggle_reaction(teammate, comment=comment, emoji="🎉") is False
    assert list(
        Event.objects.filter(verb__startswith="reaction.").values_list("verb", flat=True)
    ) == [
        "reaction.added",
        "reaction.removed",
    ]
    with pytest.raises(ValidationError):
        services.add_reaction(teammate, comment=comment, emoji="<b>")


def test_creator_and_owner_watch_implicitly_and_can_unwatch(pm, teammate, viewer, item):
    from discussions import registry

    kind = registry.get("backlog.item")
    assert services.is_watching(pm, kind, item)  # created it
    assert services.is_watching(teammate, kind, item)  # owns it
    assert not services.is_watching(viewer, kind, item)
    services.set_watch(
        pm,
        workspace=item.product.workspace,
        object_type="backlog.item",
        object_id=item.pk,
        watching=False,
    )
    assert not services.is_watching(pm, kind, item)
    assert Event.objects.filter(verb="watch.changed").count() == 1


def test_nothing_is_written_when_the_write_fails(pm, item):
    before = Event.objects.count()
    with pytest.raises(ValidationError):
        post(pm, item, "")
    assert Event.objects.count() == before
    assert not Comment.objects.exists()


def test_a_non_member_cannot_react_or_watch(item, pm):
    outsider = UserFactory()
    comment = post(pm, item, "hi")
    with pytest.raises(Http404):
        services.add_reaction(outsider, comment=comment, emoji="👍")
