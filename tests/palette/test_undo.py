"""Undo of the last delete, bulk edit or archive: through the same services,
for ten seconds, refused when someone else changed the item since."""

import json

import pytest
from django.core import signing
from django.urls import reverse

from backlog import services
from backlog.models import Item
from pmhub import undo
from tests.backlog.factories import make_item

pytestmark = pytest.mark.django_db

UNDO = "/w/acme/undo/"
BACKLOG = "/w/acme/p/PAY/backlog/"


@pytest.fixture
def items(product, pm, objective):
    first = make_item(product, pm, title="One", tags=["web"], objectives=[objective])
    second = make_item(product, pm, title="Two", owner=pm)
    return [first, second]


def offer_after_redirect(client, url="/w/acme/p/PAY/backlog/") -> dict:
    response = client.get(url)
    return response.context["undo_offer"]


def bulk_archive(client, items):
    return client.post(
        reverse("backlog:items-bulk", args=["acme", "PAY"]),
        {
            "items": [i.pk for i in items],
            "status": "archived",
            "status_reason": "Old",
            "remove_tag": "web",
        },
    )


def test_bulk_edit_offers_an_undo_that_puts_every_item_back(client, pm, items, objective):
    client.force_login(pm)
    bulk_archive(client, items)
    assert set(Item.objects.values_list("status", flat=True)) == {"archived"}
    page = client.get(BACKLOG)
    html = page.content.decode()
    assert "data-undo-toast" in html and "Updated 2 items." in html
    offer = page.context["undo_offer"]
    assert offer["url"] == UNDO
    response = client.post(UNDO, {"token": offer["token"], "next": BACKLOG}, follow=True)
    assert "Undone: 2 items are as they were." in response.content.decode()
    first, second = (Item.objects.get(pk=i.pk) for i in items)
    assert first.status == second.status == "idea"
    assert list(first.tags.values_list("name", flat=True)) == ["web"]
    assert list(first.objectives.all()) == [objective]
    assert second.owner == pm
    # The offer is shown once: the next page has no toast.
    assert "undo_offer" not in client.get(BACKLOG).context


def test_undo_is_refused_after_someone_else_changed_an_item(client, pm, teammate, items):
    client.force_login(pm)
    bulk_archive(client, items)
    offer = offer_after_redirect(client)
    theirs = Item.objects.get(pk=items[1].pk)
    services.update_item(
        teammate, item=theirs, expected_version=theirs.version, fields={"title": "Theirs"}
    )
    response = client.post(UNDO, {"token": offer["token"], "next": BACKLOG}, follow=True)
    assert "Not undone: someone else changed PAY-2 since." in response.content.decode()
    # All or nothing: the unchanged item stays archived too.
    assert set(Item.objects.values_list("status", flat=True)) == {"archived"}


def test_undo_expires_after_its_seconds(client, pm, items, monkeypatch):
    client.force_login(pm)
    bulk_archive(client, items)
    offer = offer_after_redirect(client)
    monkeypatch.setattr(undo, "UNDO_SECONDS", -undo.GRACE_SECONDS - 1)
    response = client.post(UNDO, {"token": offer["token"]}, follow=True)
    assert "Too late to undo" in response.content.decode()
    assert set(Item.objects.values_list("status", flat=True)) == {"archived"}


def test_undo_token_is_bound_to_its_person_and_unforgeable(client, pm, teammate, items):
    client.force_login(pm)
    bulk_archive(client, items)
    offer = offer_after_redirect(client)
    client.force_login(teammate)
    response = client.post(UNDO, {"token": offer["token"]}, follow=True)
    assert "Nothing to undo." in response.content.decode()
    forged = signing.dumps({"k": "backlog.items", "p": {}, "u": teammate.pk, "w": 1}, salt="x")
    response = client.post(UNDO, {"token": forged}, follow=True)
    assert "Nothing to undo." in response.content.decode()
    assert set(Item.objects.values_list("status", flat=True)) == {"archived"}


def test_viewer_cannot_undo(client, viewer, pm, items):
    client.force_login(pm)
    bulk_archive(client, items)
    offer = offer_after_redirect(client)
    client.force_login(viewer)
    assert client.post(UNDO, {"token": offer["token"]}).status_code == 403


def test_archiving_a_cell_offers_the_undo_in_an_htmx_event(client, pm, items):
    client.force_login(pm)
    item = items[0]
    response = client.post(
        reverse("backlog:item-cell", args=["acme", "PAY", item.number, "status"]),
        {"value": "archived", "status_reason": "Stale", "version": item.version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    event = json.loads(response["HX-Trigger"])["pmhub:undo"]
    assert event["message"] == "PAY-1 archived."
    client.post(UNDO, {"token": event["token"]})
    item.refresh_from_db()
    assert item.status == "idea" and item.status_reason == ""


def test_a_plain_cell_edit_offers_no_undo(client, pm, items):
    client.force_login(pm)
    item = items[0]
    response = client.post(
        reverse("backlog:item-cell", args=["acme", "PAY", item.number, "title"]),
        {"value": "Renamed", "version": item.version},
        headers={"HX-Request": "true"},
    )
    assert "pmhub:undo" not in response.get("HX-Trigger", "")


def test_deleting_an_item_can_be_undone_with_its_key_tags_and_children(client, pm, product, items):
    client.force_login(pm)
    epic = make_item(product, pm, title="Epic", type="epic")
    child = make_item(product, pm, title="Child", parent=epic)
    response = client.post(reverse("backlog:item-delete", args=["acme", "PAY", epic.number]))
    assert response.status_code == 302
    assert not Item.objects.filter(pk=epic.pk).exists()
    offer = offer_after_redirect(client)
    assert offer["message"] == f"Deleted {epic.key}."
    response = client.post(UNDO, {"token": offer["token"]}, follow=True)
    assert f"Undone: {epic.key} is back" in response.content.decode()
    back = Item.objects.get(pk=epic.pk)
    assert (back.key, back.title, back.type, back.rank) == (epic.key, "Epic", "epic", epic.rank)
    assert Item.objects.get(pk=child.pk).parent_id == epic.pk
    # Undoing twice does not make a second copy.
    response = client.post(UNDO, {"token": offer["token"]}, follow=True)
    assert "Not undone" in response.content.decode()
    assert Item.objects.filter(key=epic.key).count() == 1


def test_first_item_restored_with_tags_and_objectives(client, pm, items, objective):
    client.force_login(pm)
    client.post(reverse("backlog:item-delete", args=["acme", "PAY", 1]))
    client.post(UNDO, {"token": offer_after_redirect(client)["token"]})
    back = Item.objects.get(key="PAY-1")
    assert list(back.tags.values_list("name", flat=True)) == ["web"]
    assert list(back.objectives.all()) == [objective]
