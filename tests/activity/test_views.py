"""The audit log page, its CSV export, and the activity panels."""

import datetime as dt

import pytest
from django.utils import timezone

from backlog import services as backlog
from feedback import services as feedback
from pmhub.activity import reads, record
from pmhub.activity.models import Event
from roadmaps import services as roadmaps

AUDIT = "/w/acme/audit/"
CSV = "/w/acme/audit.csv"


@pytest.fixture
def item(pm, product):
    return backlog.create_item(pm, product=product, title="Exports")


def test_admins_see_the_audit_log(as_user, pm, item):
    response = as_user(pm).get(AUDIT)
    assert response.status_code == 200
    assert b"item.created" in response.content and item.key.encode() in response.content


def test_admin_members_see_it_too(as_user, admin_member, item):
    assert as_user(admin_member).get(AUDIT).status_code == 200


@pytest.mark.parametrize("who", ["viewer", "teammate", "stranger"])
def test_everyone_else_gets_404(as_user, request, who, item):
    user = request.getfixturevalue(who)
    assert as_user(user).get(AUDIT).status_code == 404
    assert as_user(user).get(CSV).status_code == 404


def test_filters_by_person_action_object_and_date(as_user, pm, teammate, product, item):
    backlog.update_item(teammate, item=item, expected_version=None, fields={"status": "planned"})
    old = record(product.workspace, "product.updated", product, actor=pm)
    Event.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=10))
    client = as_user(pm)

    def verbs(**params):
        response = client.get(AUDIT, params)
        assert response.status_code == 200
        return [e.verb for e, _change in response.context["rows"]]

    assert verbs(person=teammate.pk) == ["item.status_changed"]
    assert verbs(verb="item.created") == ["item.created"]
    assert verbs(object_type="products.product") == ["product.updated"]
    until = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    assert verbs(until=until) == ["product.updated"]
    assert "product.updated" not in verbs(since=timezone.localdate().isoformat())


def test_filters_by_key_through_the_item_and_after_it_is_gone(as_user, pm, teammate, product, item):
    other = backlog.create_item(pm, product=product, title="Imports")
    backlog.update_item(teammate, item=item, expected_version=None, fields={"status": "planned"})
    client = as_user(pm)

    def keys(**params):
        response = client.get(AUDIT, params)
        assert response.status_code == 200
        return {(e.object_key, e.verb) for e, _change in response.context["rows"]}

    lowered = item.key.lower()  # people type "pay-12"
    assert keys(key=lowered, verb="item.status_changed") == {(item.key, "item.status_changed")}
    assert keys(key=other.key) == {(other.key, "item.created")}
    assert keys(key="PAY-999") == set()
    backlog.delete_item(pm, item=item)
    assert (item.key, "item.deleted") in keys(key=item.key)  # by the key the events kept
    assert "key=" + item.key in client.get(AUDIT, {"key": item.key}).context["csv_url"]


def test_who_changed_the_status_reads_as_a_sentence(as_user, pm, teammate, item):
    backlog.update_item(teammate, item=item, expected_version=None, fields={"status": "planned"})
    page = as_user(pm).get(AUDIT, {"verb": "item.status_changed"}).content.decode()
    assert "status: idea → planned" in page and str(teammate) in page


def test_bad_filters_are_messages_not_errors(as_user, pm):
    response = as_user(pm).get(AUDIT, {"verb": "item.exploded", "since": "yesterday"})
    assert response.status_code == 200
    assert set(response.context["query"].errors) == {"verb", "since"}


def test_keyset_pages_return_every_event_once(as_user, pm, workspace, monkeypatch):
    monkeypatch.setattr(reads, "AUDIT_PAGE", 4)
    ids = [
        record(workspace, "item.created", object_type="t", object_id=n, actor=pm).id
        for n in range(10)
    ]
    client, seen, url = as_user(pm), [], AUDIT
    while url:
        response = client.get(url) if url == AUDIT else client.get(AUDIT + url)
        seen += [e.id for e, _c in response.context["rows"]]
        url = response.context["more_url"]
    assert seen == sorted(ids, reverse=True)


def test_older_pages_come_back_as_rows_for_htmx(as_user, pm, workspace, monkeypatch):
    monkeypatch.setattr(reads, "AUDIT_PAGE", 2)
    for n in range(3):
        record(workspace, "item.created", object_type="t", object_id=n, actor=pm)
    client = as_user(pm)
    more = client.get(AUDIT).context["more_url"]
    partial = client.get(AUDIT + more, HTTP_HX_REQUEST="true").content.decode()
    assert "<tr>" in partial and "<html" not in partial


def test_a_bad_cursor_is_400(as_user, pm):
    assert as_user(pm).get(AUDIT, {"before": "nonsense"}).status_code == 400


def test_the_page_reads_a_constant_number_of_queries(
    as_user, pm, workspace, django_assert_max_num_queries
):
    client = as_user(pm)
    for n in range(3):
        record(workspace, "item.created", object_type="t", object_id=n, actor=pm)
    with django_assert_max_num_queries(12) as few:
        client.get(AUDIT)
    for n in range(20):
        record(workspace, "item.created", object_type="t", object_id=n, actor=pm)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(AUDIT)


def test_the_csv_is_formula_safe(as_user, pm, workspace):
    record(
        workspace,
        "item.created",
        object_type="t",
        object_id=1,
        object_title="=HYPERLINK(1)",
        actor=pm,
    )
    response = as_user(pm).get(CSV)
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "'=HYPERLINK(1)" in body and ",=HYPERLINK" not in body


def test_the_item_page_shows_its_activity_to_viewers(as_user, viewer, pm, product, item):
    """One history: the item page's History is the event log's, with what
    belongs to the item (its insights) beside its own changes."""
    f = feedback.create_feedback(pm, product=product, text="We need exports")
    feedback.link_feedback(pm, feedback=f, item=item)
    page = as_user(viewer).get(f"/w/acme/p/PAY/backlog/items/{item.number}/").content.decode()
    history = page[page.index('id="history-title"') :]
    assert "<strong>created</strong>" in history and "insight.linked" in history
    assert 'id="activity-heading"' not in page  # no second list of the same events


def test_roadmap_and_customer_pages_show_their_activity(as_user, pm, workspace, product, item):
    roadmap = roadmaps.create_roadmap(pm, workspace=workspace, name="Plan", product=product)
    roadmaps.add_entry(pm, roadmap=roadmap, item=item)
    company = feedback.create_company(pm, workspace=workspace, name="Globex")
    client = as_user(pm)
    assert "roadmap_entry.added" in client.get(f"/w/acme/roadmaps/{roadmap.pk}/").content.decode()
    page = client.get(f"/w/acme/p/PAY/customers/{company.pk}/").content.decode()
    assert "company.created" in page
