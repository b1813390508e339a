"""Roadmap pages for members: rendering each layout, roles (viewers read,
403 on forced writes; strangers 404), drag-and-drop endpoints with version
checks, the entry form's conflict panel, the picker, share-link management,
and query counts that do not grow with entries."""

import datetime as dt

import pytest
from django.urls import reverse

from backlog.models import Item
from roadmaps import services
from roadmaps.models import Entry, Horizon, Layout, Roadmap, ShareLink
from tests.backlog.factories import bulk_items

from .conftest import entry_of


def url(name, roadmap, *args):
    return reverse(f"roadmaps:{name}", args=[roadmap.workspace.slug, roadmap.pk, *args])


def test_product_roadmaps_list_and_create(as_user, pm, product, nnl):
    client = as_user(pm)
    page = client.get(reverse("roadmaps:roadmaps", args=["acme", "PAY"]))
    assert page.status_code == 200 and b"Exec" in page.content
    response = client.post(
        reverse("roadmaps:roadmaps", args=["acme", "PAY"]),
        {
            "name": "Delivery",
            "layout": "timeline",
            "lane_by": "objective",
            "granularity": "month",
            "periods": 6,
        },
    )
    roadmap = Roadmap.objects.get(name="Delivery")
    assert response.status_code == 302 and response["Location"].endswith(f"/roadmaps/{roadmap.pk}/")
    bad = client.post(
        reverse("roadmaps:roadmaps", args=["acme", "PAY"]),
        {
            "name": "",
            "layout": "timeline",
            "lane_by": "none",
            "granularity": "month",
            "periods": 99,
        },
    )
    assert bad.status_code == 200 and b"has-error" in bad.content


def test_portfolio_create(as_user, pm, workspace, product):
    from tests.factories import ProductFactory

    other = ProductFactory(workspace=workspace, key="ANL", name="Analytics")
    response = as_user(pm).post(
        reverse("roadmaps:roadmaps-home", args=["acme"]),
        {
            "name": "Portfolio",
            "layout": "now_next_later",
            "lane_by": "product",
            "granularity": "quarter",
            "periods": 4,
            "products": [product.pk, other.pk],
        },
    )
    assert response.status_code == 302
    assert Roadmap.objects.get(name="Portfolio").is_portfolio


@pytest.mark.parametrize("layout", [Layout.TIMELINE, Layout.NOW_NEXT_LATER, Layout.STATUS])
def test_each_layout_renders_entries_with_objectives(
    as_user, pm, workspace, product, items, layout
):
    roadmap = services.create_roadmap(
        pm, workspace=workspace, product=product, name="R", layout=layout, lane_by="objective"
    )
    services.add_entry(
        pm,
        roadmap=roadmap,
        item=items[0],
        start_date=dt.date.today(),
        end_date=dt.date.today() + dt.timedelta(days=40),
    )
    page = as_user(pm).get(url("roadmap", roadmap))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Apple Pay" in html and "Grow conversion" in html
    assert "data-move-url" in html and f'id="entry-{roadmap.entries.get().pk}"' in html


def test_viewer_reads_without_edit_controls_and_gets_403_on_writes(as_user, viewer, nnl, items):
    client = as_user(viewer)
    page = client.get(url("roadmap", nnl))
    assert page.status_code == 200 and b"Apple Pay" in page.content
    assert b"data-move-url" not in page.content and b"data-version" not in page.content
    assert url("roadmap-entry-add", nnl).encode() not in page.content
    assert b"Share\xe2\x80\xa6" not in page.content
    entry = entry_of(nnl, items[1])
    for name, data in [
        ("roadmap-entry-move", {"version": entry.version, "column": "now"}),
        ("roadmap-entry-shift", {"version": entry.version, "months": 1}),
        ("roadmap-entry-remove", {"version": entry.version}),
    ]:
        assert client.post(url(name, nnl, entry.pk), data).status_code == 403
    assert (
        client.post(url("roadmap-entry", nnl, entry.pk), {"version": entry.version}).status_code
        == 403
    )
    assert (
        client.post(
            url("roadmap-entry-add", nnl), {"title": "x", "commitment": "likely"}
        ).status_code
        == 403
    )
    assert client.post(url("roadmap-settings", nnl), {}).status_code == 403
    assert client.get(url("roadmap-share", nnl)).status_code == 403
    assert Entry.objects.get(pk=entry.pk).horizon == Horizon.NEXT


def test_stranger_gets_404(as_user, stranger, nnl, items):
    client = as_user(stranger)
    assert client.get(url("roadmap", nnl)).status_code == 404
    entry = entry_of(nnl, items[0])
    assert (
        client.post(url("roadmap-entry-move", nnl, entry.pk), {"column": "later"}).status_code
        == 404
    )


def test_entry_of_another_roadmap_is_404(as_user, pm, nnl, timeline, items):
    other = entry_of(timeline, items[0])
    client = as_user(pm)
    assert client.get(url("roadmap-entry", nnl, other.pk)).status_code == 404
    assert (
        client.post(url("roadmap-entry-move", nnl, other.pk), {"column": "now"}).status_code == 404
    )
    mine = entry_of(nnl, items[0])
    assert (
        client.post(
            url("roadmap-entry-move", nnl, mine.pk), {"version": mine.version, "before": other.pk}
        ).status_code
        == 404
    )


def test_drag_move_returns_new_versions_and_stale_is_412(as_user, pm, teammate, nnl, items):
    client = as_user(pm)
    entry = entry_of(nnl, items[1])
    response = client.post(
        url("roadmap-entry-move", nnl, entry.pk), {"version": entry.version, "column": "now"}
    )
    assert response.status_code == 200 and response.json()["version"] == entry.version + 1
    assert Entry.objects.get(pk=entry.pk).horizon == "now"
    stale = client.post(
        url("roadmap-entry-move", nnl, entry.pk), {"version": entry.version, "column": "later"}
    )
    assert stale.status_code == 412 and "Nothing was overwritten" in stale.json()["error"]
    assert Entry.objects.get(pk=entry.pk).horizon == "now"
    bad = client.post(
        url("roadmap-entry-move", nnl, entry.pk),
        {"version": entry.version + 1, "column": "someday"},
    )
    assert bad.status_code == 400


def test_timeline_shift_endpoint(as_user, pm, timeline, items):
    entry = entry_of(timeline, items[0])
    response = as_user(pm).post(
        url("roadmap-entry-shift", timeline, entry.pk), {"version": entry.version, "months": 2}
    )
    assert response.status_code == 200
    assert response.json()["start_date"] == "2027-03-10"
    huge = as_user(pm).post(
        url("roadmap-entry-shift", timeline, entry.pk),
        {"version": entry.version + 1, "months": 10_000},
    )
    assert huge.status_code == 400


def test_entry_form_conflict_keeps_input_and_overwrites_nothing(
    as_user, pm, teammate, timeline, items
):
    entry = entry_of(timeline, items[0])
    services.update_entry(
        teammate,
        entry=entry_of(timeline, items[0]),
        expected_version=entry.version,
        fields={"note": "theirs"},
    )
    response = as_user(pm).post(
        url("roadmap-entry", timeline, entry.pk),
        {
            "version": entry.version,
            "summary": "mine",
            "note": "my note",
            "commitment": "committed",
            "start_date": "2027-01-10",
            "end_date": "2027-05-31",
        },
    )
    assert response.status_code == 200
    assert "Someone else saved this entry first" in response.content.decode()
    assert "my note" in response.content.decode()
    fresh = Entry.objects.get(pk=entry.pk)
    assert (fresh.note, fresh.summary) == ("theirs", "")
    saved = as_user(pm).post(
        url("roadmap-entry", timeline, entry.pk),
        {
            "version": fresh.version,
            "summary": "mine",
            "note": "my note",
            "commitment": "committed",
            "start_date": "2027-01-10",
            "end_date": "2027-05-31",
        },
    )
    assert saved.status_code == 302
    assert Entry.objects.get(pk=entry.pk).end_date == dt.date(2027, 5, 31)


def test_entry_form_rejects_end_before_start(as_user, pm, timeline, items):
    entry = entry_of(timeline, items[0])
    response = as_user(pm).post(
        url("roadmap-entry", timeline, entry.pk),
        {
            "version": entry.version,
            "commitment": "likely",
            "start_date": "2027-03-01",
            "end_date": "2027-02-01",
        },
    )
    assert response.status_code == 200 and "on or after the start" in response.content.decode()


def test_picker_searches_items_not_yet_on_the_roadmap(as_user, pm, nnl, items, product):
    extra = Item.objects.create(
        product=product, number=99, key="PAY-99", title="Refund flow", rank="zz"
    )
    client = as_user(pm)
    found = client.get(url("roadmap-picker", nnl), {"q": "refund"}).content.decode()
    assert "PAY-99" in found and "Apple Pay" not in found
    by_key = client.get(url("roadmap-picker", nnl), {"q": "pay-99"}).content.decode()
    assert "Refund flow" in by_key
    added = client.post(
        url("roadmap-entry-add", nnl),
        {"item": extra.pk, "commitment": "likely", "horizon": "later"},
    )
    assert added.status_code == 302 and nnl.entries.filter(item=extra, horizon="later").exists()


def test_add_item_of_another_workspace_is_404(as_user, pm, nnl, stranger):
    from pmhub.accounts.models import Workspace
    from tests.backlog.factories import make_item
    from tests.factories import ProductFactory

    other = Workspace.objects.get(slug="other")
    foreign = make_item(ProductFactory(workspace=other, key="FOR"), stranger, title="Foreign")
    response = as_user(pm).post(
        url("roadmap-entry-add", nnl), {"item": foreign.pk, "commitment": "likely"}
    )
    assert response.status_code == 404


def test_share_links_created_by_admins_shown_once_and_revoked(as_user, pm, teammate, nnl):
    editor = as_user(teammate)
    listing = editor.get(url("roadmap-share", nnl))
    assert listing.status_code == 200 and b"Create link" not in listing.content
    assert (
        editor.post(url("roadmap-share", nnl), {"label": "x", "date_mode": "exact"}).status_code
        == 403
    )
    client = as_user(pm)
    response = client.post(
        url("roadmap-share", nnl),
        {
            "label": "Board",
            "date_mode": "coarse",
            "hide_scores": "on",
            "exclude_tags": "secret, ",
            "exclude_commitments": ["exploring"],
        },
    )
    html = response.content.decode()
    link = ShareLink.objects.get(label="Board")
    assert "/s/" in html and link.exclude_tags == ["secret"] and not link.hide_owners
    assert 'data-copy="#created-url"' in html  # a new link had no copy button
    token = html.split("/s/")[1].split("/")[0]
    assert link.token_hash != token
    again = client.get(url("roadmap-share", nnl)).content.decode()
    assert token not in again and "Board" in again
    revoke = client.post(url("roadmap-share-revoke", nnl, link.pk))
    assert revoke.status_code == 302
    assert client.get(reverse("roadmaps:shared-roadmap", args=[token])).status_code == 404


@pytest.mark.parametrize(
    ("layout", "lane_by"),
    [("now_next_later", "objective"), ("timeline", "tag"), ("status", "none")],
)
def test_roadmap_page_queries_do_not_grow_with_entries(
    as_user, pm, workspace, product, objective, django_assert_max_num_queries, layout, lane_by
):
    roadmap = services.create_roadmap(
        pm,
        workspace=workspace,
        product=product,
        name="Big",
        layout=layout,
        lane_by=lane_by,
        start_date=dt.date.today(),
    )
    client = as_user(pm)
    previous = [None]

    def fill(n):
        for item in bulk_items(product, n, status="planned"):
            item.objectives.add(objective)
            entry = services.add_entry(
                pm, roadmap=roadmap, item=item, horizon=Horizon.NOW, note="note"
            )
            if previous[0] is not None:  # a chain of dependencies, one per entry
                services.add_dependency(pm, blocker=previous[0], blocked=entry)
            previous[0] = entry
        services.add_milestone(pm, roadmap=roadmap, name="M", date=dt.date.today())

    fill(3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert client.get(url("roadmap", roadmap)).status_code == 200
    fill(40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = client.get(url("roadmap", roadmap))
    assert page.content.decode().count("<article ") == 43


def test_backlog_item_page_shows_its_roadmaps(as_user, pm, nnl, timeline, items):
    item = items[0]
    page = as_user(pm).get(reverse("backlog:item", args=["acme", "PAY", item.number]))
    html = page.content.decode()
    assert page.status_code == 200 and "On roadmaps" in html
    assert "Exec" in html and "Delivery" in html and "10 Jan 2027 – 31 Mar 2027" in html
    assert url("roadmap", nnl) in html


def test_bad_settings_or_target_show_the_form_again_with_the_input(as_user, pm, nnl, objective):
    client = as_user(pm)
    response = client.post(
        url("roadmap-settings", nnl),
        {
            "version": nnl.version,
            "settings-name": "Renamed",
            "settings-layout": "now_next_later",
            "settings-lane_by": "none",
            "settings-granularity": "month",
            "settings-periods": "99",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'value="Renamed"' in html and "has-error" in html
    assert Roadmap.objects.get(pk=nnl.pk).name == "Exec"
    target = client.post(
        url("roadmap-target", nnl), {"version": nnl.version, f"target-{objective.pk}": "40"}
    )
    assert target.status_code == 200
    assert "adds up to 40%" in target.content.decode() and 'value="40"' in target.content.decode()
    saved = client.post(
        url("roadmap-target", nnl), {"version": nnl.version, f"target-{objective.pk}": "100"}
    )
    assert saved.status_code == 302
    page = client.get(url("roadmap", nnl)).content.decode()
    assert f'name="target-{objective.pk}" min="0" max="100" step="any" value="100.0"' in page
    stale = client.post(
        url("roadmap-settings", nnl),
        {
            "version": nnl.version,
            "settings-name": "Mine",
            "settings-layout": "now_next_later",
            "settings-lane_by": "none",
            "settings-granularity": "month",
            "settings-periods": "6",
        },
    )
    assert stale.status_code == 200 and "nothing was overwritten" in stale.content.decode()
    assert Roadmap.objects.get(pk=nnl.pk).name == "Exec"


def test_bad_milestone_keeps_the_input(as_user, pm, timeline):
    response = as_user(pm).post(
        url("roadmap-milestone-add", timeline),
        {"name": "GA", "date": "1500-01-01", "kind": "release"},
    )
    assert response.status_code == 200 and 'value="GA"' in response.content.decode()
    assert "between 1990 and 2200" in response.content.decode()


def test_status_board_lists_items_without_a_column(as_user, pm, workspace, product, items):
    board = services.create_roadmap(
        pm, workspace=workspace, product=product, name="Board", layout=Layout.STATUS
    )
    services.add_entry(pm, roadmap=board, item=items[1])  # planned: a column
    services.add_entry(pm, roadmap=board, item=items[3])  # idea: no column
    html = as_user(pm).get(url("roadmap", board)).content.decode()
    columns, rest = html.split("Not on this board")
    assert "SEPA debits" in columns and "Dark mode" not in columns and "Dark mode" in rest


def test_drag_into_a_custom_lane_and_out_of_it(as_user, pm, nnl, items, timeline):
    nnl.lane_by = "custom"
    nnl.save(update_fields=["lane_by"])
    lane = services.add_lane(pm, roadmap=nnl, name="Platform")
    entry = entry_of(nnl, items[1])
    client = as_user(pm)
    moved = client.post(
        url("roadmap-entry-move", nnl, entry.pk),
        {"version": entry.version, "column": "now", "lane": lane.pk},
    )
    assert moved.status_code == 200 and Entry.objects.get(pk=entry.pk).lane_id == lane.pk
    page = client.get(url("roadmap", nnl)).content.decode()
    assert f'data-column="now" data-lane="{lane.pk}"' in page
    out = client.post(
        url("roadmap-entry-move", nnl, entry.pk),
        {"version": moved.json()["version"], "column": "now", "lane": ""},
    )
    assert out.status_code == 200 and Entry.objects.get(pk=entry.pk).lane_id is None
    other_lane = services.add_lane(pm, roadmap=timeline, name="Theirs")
    refused = client.post(
        url("roadmap-entry-move", nnl, entry.pk),
        {"version": out.json()["version"], "lane": other_lane.pk},
    )
    assert refused.status_code == 404


def test_the_roadmap_page_varies_on_hx_request(as_user, pm, nnl):
    """The same URL answers the board partial to htmx and the page otherwise."""
    url = f"/w/acme/roadmaps/{nnl.pk}/?partial=board"
    response = as_user(pm).get(url, HTTP_HX_REQUEST="true")
    assert "HX-Request" in response["Vary"]
