"""The command palette: one endpoint over the workspace, each app's results,
actions on the object on screen, and the actions' own views."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backlog.models import Item
from backlog.search import find_items
from feedback.models import Company
from metrics.models import Metric
from pmhub.palette import fuzzy_score
from roadmaps import services as roadmap_services
from roadmaps.models import Entry, Layout, Roadmap
from tests.backlog.factories import make_item
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

URL = "/w/acme/palette/"


def labels(response) -> list[str]:
    html = response.content.decode()
    return [
        re.sub(r"<[^>]+>", "", m).strip()
        for m in re.findall(r'<span class="palette-label">(.*?)</span>', html)
    ]


@pytest.fixture
def items(product, pm):
    return [
        make_item(product, pm, title="Invoice PDFs for admins"),
        make_item(product, pm, title="SSO login"),
        make_item(product, pm, title="Refund flow for finance teams"),
    ]


def test_fuzzy_score_prefers_prefix_then_substring_then_initials():
    assert fuzzy_score("back", "Backlog · PAY") > fuzzy_score("log", "Backlog · PAY")
    assert fuzzy_score("log", "Backlog · PAY") > fuzzy_score("nnl", "Now Next Later")
    assert fuzzy_score("nnl", "Now Next Later") == 1.5
    assert fuzzy_score("zz", "Backlog") is None


def test_item_by_key_comes_first_then_longer_numbers(product, pm, items):
    more = [make_item(product, pm, title=f"Filler {n}") for n in range(10)]
    found = find_items(product.workspace, "PAY-1", limit=5)
    assert [r["key"] for r in found] == ["PAY-1", "PAY-10", "PAY-11", "PAY-12", "PAY-13"]
    assert more  # PAY-4 … PAY-13 exist
    assert [r["key"] for r in find_items(product.workspace, "pay-2", limit=8)] == ["PAY-2"]
    assert [r["key"] for r in find_items(product.workspace, "3", limit=1)] == ["PAY-3"]


def test_item_by_words_of_its_title_in_any_order(product, items):
    found = find_items(product.workspace, "admins invoice", limit=8)
    assert [r["title"] for r in found] == ["Invoice PDFs for admins"]
    assert find_items(product.workspace, "nothing like this", limit=8) == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm only on PostgreSQL")
def test_item_title_search_forgives_a_typo_on_postgresql(product, items):
    found = find_items(product.workspace, "invocie", limit=8)
    assert [r["title"] for r in found] == ["Invoice PDFs for admins"]


def test_palette_finds_every_kind_of_thing_in_the_workspace(client, pm, product, items):
    Metric.objects.create(product=product, name="Refund rate")
    Company.objects.create(workspace=product.workspace, name="Refundly Ltd")
    roadmap_services.create_roadmap(
        pm, workspace=product.workspace, product=product, name="Refund plan"
    )
    client.force_login(pm)
    response = client.get(URL, {"q": "refund"})
    assert response.status_code == 200
    found = labels(response)
    assert "PAY-3 Refund flow for finance teams" in found
    assert "Refund rate" in found
    assert "Refundly Ltd" in found
    assert "Refund plan" in found
    html = response.content.decode()
    assert 'role="option"' in html and 'role="group"' in html


def test_palette_never_shows_another_workspace(client, pm, stranger, items):
    other = ProductFactory(workspace=stranger.memberships.get().workspace, key="OTH")
    make_item(other, stranger, title="Invoice secret plan")
    client.force_login(pm)
    assert labels(client.get(URL, {"q": "invoice"})) == ["PAY-1 Invoice PDFs for admins"]
    assert labels(client.get(URL, {"q": "OTH-1"})) == []
    client.force_login(stranger)
    assert client.get(URL, {"q": "invoice"}).status_code == 404


def test_palette_escapes_what_it_shows(client, pm, product):
    make_item(product, pm, title="<script>alert(1)</script>")
    client.force_login(pm)
    html = client.get(URL, {"q": "script"}).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_pages_of_the_product_on_screen(client, pm, product):
    client.force_login(pm)
    found = labels(client.get(URL, {"q": "backl", "product": "PAY"}))
    assert found[0] == "Backlog · PAY"
    assert "Backlog · PAY" not in labels(client.get(URL, {"q": "backl"}))


def test_new_item_action_posts_to_quick_add(client, pm, product):
    client.force_login(pm)
    response = client.get(URL, {"q": "Dark mode", "product": "PAY"})
    html = response.content.decode()
    assert "New item “Dark mode”" in labels(response)
    url = reverse("backlog:item-create", args=["acme", "PAY"])
    assert f'data-url="{url}" data-method="post"' in html
    response = client.post(url, {"title": "Dark mode", "type": "feature"})
    assert response.status_code == 302
    assert Item.objects.filter(product=product, title="Dark mode").exists()


def test_viewer_gets_no_actions(client, viewer, product, items):
    client.force_login(viewer)
    found = labels(client.get(URL, {"q": "", "product": "PAY", "context": "item:PAY-1"}))
    assert not any(label.startswith(("Set status", "Assign", "New ")) for label in found)


def test_item_actions_set_status_and_owner_through_the_service(client, pm, teammate, items):
    client.force_login(pm)
    found = labels(client.get(URL, {"q": "", "context": "item:PAY-1", "product": "PAY"}))
    assert "Set status: Planned" in found
    found = labels(client.get(URL, {"q": "teammate", "context": "item:PAY-1", "product": "PAY"}))
    assert found[0] == "Assign to teammate"
    url = reverse("backlog:item-set", args=["acme", "PAY", 1])
    item = items[0]
    response = client.post(
        url, {"field": "owner", "value": teammate.pk, "version": item.version, "next": "/w/acme/"}
    )
    assert response.status_code == 302 and response["Location"] == "/w/acme/"
    item.refresh_from_db()
    assert item.owner == teammate
    client.post(url, {"field": "status", "value": "planned", "version": item.version})
    item.refresh_from_db()
    assert item.status == "planned"


def test_item_action_at_a_stale_version_changes_nothing(client, pm, teammate, items):
    item = items[0]
    stale = item.version
    from backlog import services

    services.update_item(teammate, item=item, expected_version=stale, fields={"title": "Theirs"})
    client.force_login(pm)
    url = reverse("backlog:item-set", args=["acme", "PAY", 1])
    response = client.post(
        url, {"field": "status", "value": "planned", "version": stale}, follow=True
    )
    item.refresh_from_db()
    assert item.status == "idea"
    assert "someone else changed PAY-1 first" in response.content.decode()


def test_item_action_rejects_a_stranger_as_owner(client, pm, stranger, items):
    client.force_login(pm)
    url = reverse("backlog:item-set", args=["acme", "PAY", 1])
    client.post(url, {"field": "owner", "value": stranger.pk, "version": items[0].version})
    items[0].refresh_from_db()
    assert items[0].owner is None


def test_place_an_item_on_a_now_next_later_roadmap_from_the_palette(client, pm, product, items):
    client.force_login(pm)
    response = client.get(URL, {"q": "NNL", "product": "PAY"})
    assert "New Now/Next/Later roadmap “NNL”" in labels(response)
    response = client.post(
        reverse("roadmaps:palette-create", args=["acme", "PAY"]), {"name": "Plan"}
    )
    roadmap = Roadmap.objects.get(name="Plan")
    assert roadmap.layout == Layout.NOW_NEXT_LATER and roadmap.product == product
    assert response["Location"] == reverse("roadmaps:roadmap", args=["acme", roadmap.pk])
    found = labels(client.get(URL, {"q": "now", "context": "item:PAY-2", "product": "PAY"}))
    assert found[0] == "Move to Now on “Plan”"
    place = reverse("roadmaps:palette-place", args=["acme", roadmap.pk])
    client.post(place, {"item": "PAY-2", "horizon": "now"})
    assert Entry.objects.get(roadmap=roadmap, item=items[1]).horizon == "now"
    found = labels(client.get(URL, {"q": "", "context": "item:PAY-2", "product": "PAY"}))
    assert "Move to Now on “Plan”" not in found and "Move to Later on “Plan”" in found
    client.post(place, {"item": "PAY-2", "horizon": "later"})
    assert Entry.objects.get(roadmap=roadmap, item=items[1]).horizon == "later"


def test_place_refuses_a_bad_horizon_and_another_workspace(client, pm, stranger, product, items):
    roadmap = roadmap_services.create_roadmap(
        pm, workspace=product.workspace, product=product, name="Plan", layout=Layout.NOW_NEXT_LATER
    )
    client.force_login(pm)
    place = reverse("roadmaps:palette-place", args=["acme", roadmap.pk])
    client.post(place, {"item": "PAY-1", "horizon": "someday"})
    assert not Entry.objects.exists()
    client.force_login(stranger)
    assert client.post(place, {"item": "PAY-1", "horizon": "now"}).status_code == 404


def test_share_action_on_a_roadmap_for_admins(client, pm, viewer, product):
    roadmap = roadmap_services.create_roadmap(
        pm, workspace=product.workspace, product=product, name="R"
    )
    client.force_login(pm)
    found = labels(client.get(URL, {"q": "share", "context": f"roadmap:{roadmap.pk}"}))
    assert found[0] == "Share this roadmap…"
    client.force_login(viewer)
    assert "Share this roadmap…" not in labels(
        client.get(URL, {"q": "share", "context": f"roadmap:{roadmap.pk}"})
    )


def test_palette_queries_do_not_grow_with_the_backlog(client, pm, product):
    for n in range(30):
        make_item(product, pm, title=f"Invoice {n}")
    client.force_login(pm)
    client.get(URL, {"q": "invoice", "product": "PAY", "context": "item:PAY-1"})
    with CaptureQueriesContext(connection) as few:
        client.get(URL, {"q": "invoice", "product": "PAY", "context": "item:PAY-1"})
    for n in range(30):
        make_item(product, pm, title=f"Invoice more {n}")
    with CaptureQueriesContext(connection) as more:
        response = client.get(URL, {"q": "invoice", "product": "PAY", "context": "item:PAY-1"})
    assert len(more) == len(few)
    assert sum(1 for label in labels(response) if label.startswith("PAY-")) == 8


def test_every_page_has_the_palette_and_its_context(client, pm, product, items):
    client.force_login(pm)
    html = client.get(reverse("backlog:item", args=["acme", "PAY", 1])).content.decode()
    assert 'id="palette"' in html and 'data-palette-context="item:PAY-1"' in html
    assert 'data-palette-product="PAY"' in html
    html = client.get("/w/acme/").content.decode()
    assert 'role="combobox"' in html and 'aria-controls="palette-list"' in html
