"""The discussion panel on object pages, its actions, the bell, the
notifications page, preferences and unsubscribe."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from discussions import services
from discussions.models import Comment, Notification, Reaction

from .test_services import post


def item_url(item):
    return f"/w/acme/p/PAY/backlog/items/{item.number}/"


def thread_url(item):
    return f"/w/acme/discuss/backlog.item/{item.pk}/"


def test_the_item_page_shows_the_discussion_panel(as_user, pm, teammate, item):
    post(teammate, item, f"Hello @{pm.username}, <script>alert(1)</script> **really**")
    page = as_user(pm).get(item_url(item)).content.decode()
    assert f'id="discussion-backlog-item-{item.pk}"' in page
    html = page.split("data-discussion>")[1].split("</section>")[0]
    assert '<span class="mention">@pm</span>' in html
    assert "<script>alert" not in page  # dropped by nh3; escaped in the activity panel
    assert "<strong>really</strong>" in html
    assert "Watching · Unwatch" in html  # the creator watches


def test_posting_a_comment_with_htmx_answers_the_panel(as_user, pm, item):
    response = as_user(pm).post(
        thread_url(item) + "comments/", {"body": "First!"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"First!" in response.content
    assert b"<html" not in response.content
    assert Comment.objects.get().author == pm
    # The live refresh asks for the list alone: the comment box is not replaced.
    listed = as_user(pm).get(thread_url(item), {"part": "list"}, HTTP_HX_REQUEST="true")
    assert b"First!" in listed.content and b"comment-form" not in listed.content


def test_posting_without_htmx_redirects_back(as_user, pm, item):
    response = as_user(pm).post(
        thread_url(item) + "comments/", {"body": "Hi", "next": item_url(item)}
    )
    assert response.status_code == 302 and response["Location"] == item_url(item)


def test_a_too_long_comment_is_a_clear_400_that_keeps_the_draft(as_user, pm, item):
    response = as_user(pm).post(
        thread_url(item) + "comments/", {"body": "y" * 10_001}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert b"at most 10,000 characters" in response.content
    assert not Comment.objects.exists()


def test_a_stranger_gets_404_everywhere(as_user, stranger, pm, item):
    comment = post(pm, item, "hi")
    client = as_user(stranger)
    assert client.get(thread_url(item)).status_code == 404
    assert client.post(thread_url(item) + "comments/", {"body": "x"}).status_code == 404
    assert client.post(f"/w/acme/comments/{comment.pk}/react/", {"emoji": "👍"}).status_code == 404
    other = stranger.memberships.get().workspace.slug
    url = f"/w/{other}/discuss/backlog.item/{item.pk}/comments/"
    assert client.post(url, {"body": "x"}).status_code == 404
    assert client.get(f"/w/{other}/discuss/backlog.item/{item.pk}/").status_code == 404


def test_a_viewer_gets_403_when_only_editors_may_comment(as_user, pm, viewer, item, workspace):
    services.set_editors_only(pm, workspace=workspace, editors_only=True)
    client = as_user(viewer)
    assert client.post(thread_url(item) + "comments/", {"body": "x"}).status_code == 403
    html = client.get(item_url(item)).content.decode()
    assert "only editors may comment" in html
    assert 'class="comment-form"' not in html


def test_edit_react_delete_and_watch(as_user, pm, item):
    client = as_user(pm)
    comment = post(pm, item, "Draft")
    hx = {"HTTP_HX_REQUEST": "true"}
    r = client.post(f"/w/acme/comments/{comment.pk}/edit/", {"body": "Final", "version": 1}, **hx)
    assert r.status_code == 200 and b"edited" in r.content
    r = client.post(f"/w/acme/comments/{comment.pk}/edit/", {"body": "Stale", "version": 1}, **hx)
    assert r.status_code == 409 and b"changed meanwhile" in r.content
    assert (
        client.post(f"/w/acme/comments/{comment.pk}/react/", {"emoji": "🎉"}, **hx).status_code
        == 200
    )
    assert Reaction.objects.count() == 1
    r = client.post(f"/w/acme/comments/{comment.pk}/react/", {"emoji": "nope"}, **hx)
    assert r.status_code == 400
    r = client.post(thread_url(item) + "watch/", {"watching": "0"}, **hx)
    assert b'aria-pressed="false">Watch<' in r.content
    r = client.post(f"/w/acme/comments/{comment.pk}/delete/", {"version": 2}, **hx)
    assert r.status_code == 200 and b"Final" not in r.content


def test_someone_elses_comment_cannot_be_edited(as_user, pm, teammate, item):
    comment = post(pm, item, "Mine")
    r = as_user(teammate).post(f"/w/acme/comments/{comment.pk}/edit/", {"body": "x"})
    assert r.status_code == 403


def test_the_panel_reads_in_constant_queries_with_200_comments_and_50_reactions(
    as_user, pm, teammate, item, workspace
):
    client = as_user(pm)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(item_url(item)).status_code == 200
        return len(ctx.captured_queries)

    services.add_reaction(teammate, comment=post(pm, item, "one"), emoji="👍")
    count()  # the first request of a session reads a little more
    few = count()
    comments = Comment.objects.bulk_create(
        [
            Comment(
                workspace=workspace,
                object_type="backlog.item",
                object_id=item.pk,
                author=teammate if i % 2 else pm,
                body=f"Comment {i}",
                body_html=f"<p>Comment {i}</p>",
            )
            for i in range(200)
        ]
    )
    for c in comments[:20]:
        Comment.objects.create(
            workspace=workspace,
            object_type="backlog.item",
            object_id=item.pk,
            parent=c,
            author=teammate,
            body="reply",
            body_html="<p>reply</p>",
        )
    users = [pm, teammate]
    Reaction.objects.bulk_create(
        [Reaction(comment=comments[i % 25], user=users[i // 25], emoji="👍") for i in range(50)]
    )
    assert count() == few


def test_the_generic_page_serves_every_type(as_user, pm, objective):
    r = as_user(pm).get(f"/w/acme/discuss/products.objective/{objective.pk}/")
    assert r.status_code == 200 and objective.title.encode() in r.content
    assert as_user(pm).get("/w/acme/discuss/auth.user/1/").status_code == 404


def test_members_autocomplete_lists_only_this_workspaces_members(as_user, pm, teammate, stranger):
    data = as_user(pm).get("/w/acme/discuss/members/", {"q": "te"}).json()
    assert [m["username"] for m in data["results"]] == ["teammate"]
    assert as_user(pm).get("/w/acme/discuss/members/", {"q": "str"}).json()["results"] == []


def test_bell_notifications_page_and_mark_read(as_user, pm, teammate, item, notify):
    notify()
    post(pm, item, f"@{teammate.username} look <script>x</script>")
    notify()
    client = as_user(teammate)
    bell = client.get("/w/acme/notifications/bell/", HTTP_HX_REQUEST="true").content.decode()
    assert 'class="bell-count"' in bell and "2 unread" in bell
    page = client.get("/w/acme/notifications/").content.decode()
    assert "mentioned you on" in page and "<script>x" not in page
    page = client.get("/w/acme/notifications/", {"kind": "mention"}).content.decode()
    assert "assigned you" not in page
    mention = Notification.objects.get(recipient=teammate, kind="mention")
    r = client.post("/w/acme/notifications/read/", {"id": mention.pk, "follow": "1"})
    assert r.status_code == 302 and r["Location"] == item_url(item)
    client.post("/w/acme/notifications/read-all/")
    assert services.unread_count(teammate) == 0
    assert 'class="bell-count"' not in client.get("/w/acme/notifications/bell/").content.decode()


def test_the_watched_list_shows_what_i_watch(as_user, pm, teammate, item):
    post(teammate, item, "I'm in")
    page = as_user(teammate).get("/w/acme/notifications/").content.decode()
    assert item.key in page and "One-click checkout" in page


def test_preferences_and_logged_out_unsubscribe(client, as_user, teammate):
    r = as_user(teammate).post(
        "/notifications/preferences/", {"comment": "off", "mention": "digest"}
    )
    assert r.status_code == 302
    client.logout()
    token = services.unsubscribe_token(teammate.pk, "assigned")
    url = f"/notifications/unsubscribe/{token}/"
    assert b"Stop the emails" in client.get(url).content  # a GET only asks
    assert b"Unsubscribed" in client.post(url).content
    assert client.post(url + "x/").status_code == 404
    assert client.get(f"/notifications/unsubscribe/{token}x/").status_code == 400
    from discussions.models import EmailPreference

    prefs = dict(EmailPreference.objects.filter(user=teammate).values_list("kind", "delivery"))
    assert prefs == {"comment": "off", "mention": "digest", "assigned": "off"}


def test_admins_set_who_may_comment(as_user, pm, teammate, workspace):
    as_user(pm).post("/w/acme/discussions/settings/", {"editors_only": "1"})
    assert workspace.discussion_settings.editors_only
    assert (
        as_user(teammate).post("/w/acme/discussions/settings/", {"editors_only": "0"}).status_code
        == 403
    )


@pytest.mark.parametrize("label", ["roadmaps.entry", "feedback.company"])
def test_entry_and_customer_pages_carry_the_panel(as_user, pm, product, label):
    if label == "roadmaps.entry":
        from roadmaps import services as rs
        from tests.backlog.factories import make_item

        roadmap = rs.create_roadmap(
            pm, workspace=product.workspace, product=product, name="Now next later"
        )
        entry = rs.add_entry(pm, roadmap=roadmap, item=make_item(product, pm, title="On the map"))
        url = f"/w/acme/roadmaps/{roadmap.pk}/entries/{entry.pk}/"
        oid = entry.pk
    else:
        from feedback import services as fs

        company = fs.create_company(pm, workspace=product.workspace, name="Globex")
        url = f"/w/acme/p/PAY/customers/{company.pk}/"
        oid = company.pk
    html = as_user(pm).get(url).content.decode()
    assert f'id="discussion-{label.replace(".", "-")}-{oid}"' in html


def test_without_htmx_an_action_goes_back_to_the_page_it_came_from(as_user, pm, item):
    comment = post(pm, item, "React to me")
    client = as_user(pm)
    back = "http://testserver/w/acme/p/PAY/customers/"
    r = client.post(f"/w/acme/comments/{comment.pk}/react/", {"emoji": "👍"}, HTTP_REFERER=back)
    assert r.status_code == 302 and r["Location"] == back
    evil = "https://evil.example/"
    r = client.post(f"/w/acme/comments/{comment.pk}/react/", {"emoji": "👍"}, HTTP_REFERER=evil)
    assert r["Location"] == item_url(item)
