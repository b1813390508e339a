import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import services
from backlog.models import BacklogSettings, CustomField, Item, SavedView, ScoringModel
from tests.backlog.factories import bulk_items, make_item, make_rice_item

HX = {"HTTP_HX_REQUEST": "true"}
BACKLOG = "/w/acme/p/PAY/backlog/"


@pytest.fixture
def items(product, pm):
    return [
        make_rice_item(
            product, pm, title="Checkout v2", reach=100, effort=2, value=8, tags=["growth"]
        ),
        make_rice_item(product, pm, title="SEPA", reach=50, effort=1, value=9),
        make_item(product, pm, title="Unscored idea"),
    ]


def item_url(item, suffix=""):
    return f"{BACKLOG}items/{item.number}/{suffix}"


# --- permissions ---------------------------------------------------------------------------

READ_URLS = [
    lambda i: BACKLOG,
    lambda i: BACKLOG + "?view=chart",
    lambda i: item_url(i),
    lambda i: BACKLOG + "scoring/",
    lambda i: BACKLOG + "fields/",
    lambda i: BACKLOG + "scoring/progress/",
]
WRITE_POSTS = [
    lambda i: (BACKLOG + "items/new/", {"title": "x", "type": "feature"}),
    lambda i: (item_url(i), {"title": "x", "type": "feature", "status": "idea", "version": 1}),
    lambda i: (item_url(i, "cell/title/"), {"value": "x", "version": 1}),
    lambda i: (item_url(i, "move/"), {"to": "top"}),
    lambda i: (item_url(i, "delete/"), {}),
    lambda i: (BACKLOG + "items/bulk/", {"items": [i.pk], "status": "planned"}),
    lambda i: (BACKLOG + "scoring/new/", {"name": "x", "kind": "ice"}),
    lambda i: (BACKLOG + "fields/", {"name": "x", "kind": "text"}),
]


@pytest.mark.parametrize("url", READ_URLS)
def test_viewer_reads_and_stranger_gets_404(as_user, client, viewer, stranger, items, url):
    assert as_user(viewer).get(url(items[0])).status_code == 200
    client.logout()
    assert as_user(stranger).get(url(items[0])).status_code == 404


@pytest.mark.parametrize("post", WRITE_POSTS)
def test_viewer_gets_403_on_every_write(as_user, viewer, items, post):
    url, data = post(items[0])
    assert as_user(viewer).post(url, data).status_code == 403
    assert Item.objects.get(pk=items[0].pk).title == "Checkout v2"
    assert Item.objects.count() == 3


def test_viewer_sees_no_edit_controls(as_user, viewer, items):
    html = as_user(viewer).get(BACKLOG).content.decode()
    assert "cell-btn" not in html and "data-sortable" not in html and "bulk-form" not in html


# --- the table -------------------------------------------------------------------------------


def test_table_shows_scores_and_flags_missing_inputs(as_user, pm, items):
    html = as_user(pm).get(BACKLOG).content.decode()
    assert "Checkout v2" in html and "needs Reach, Impact, Confidence, Effort" in html
    assert "100 × 1 × 100% ÷ 2 = 50" in html  # the score explains itself on hover


def test_missing_inputs_are_filled_in_the_row(as_user, pm, teammate, items):
    """New items showed "needs 4 inputs" with no way to fill them from the row."""
    unscored = Item.objects.get(pk=items[2].pk)
    url = item_url(unscored, "cell/inputs/")
    client = as_user(pm)
    editor = client.get(url, **HX).content.decode()
    for name in ("in_reach", "in_impact", "in_confidence", "in_effort"):
        assert f'name="{name}"' in editor
    bad = client.post(
        url, {"version": unscored.version, "in_reach": "lots", "in_impact": "2"}, **HX
    )
    assert "Enter a number." in bad.content.decode()
    assert 'value="lots"' in bad.content.decode()  # what was typed stays
    done = {"in_reach": "100", "in_impact": "2", "in_confidence": "50", "in_effort": "1"}
    row = client.post(url, {"version": unscored.version, **done}, **HX).content.decode()
    assert row.lstrip().startswith("<tr") and 'class="score"' in row
    unscored.refresh_from_db()
    assert unscored.score == 100
    stale = as_user(teammate).post(url, {"version": 1, **done}, **HX).content.decode()
    assert "someone else changed" in stale


@pytest.mark.parametrize("role", ["pm", "viewer"])
def test_rows_escape_every_value(as_user, pm, viewer, product, role):
    """Rows are written in Python (backlog.rendering.RowWriter), not by the
    template engine: every value must still be escaped."""
    pm.first_name = "<i>Pat</i>"
    pm.save()
    epic = make_item(product, pm, title="<b>Epic</b>", type="epic")
    make_item(product, pm, title='<script>x()</script>"', tags=["<u>t</u>"], owner=pm, parent=epic)

    html = as_user(pm if role == "pm" else viewer).get(BACKLOG).content.decode()

    assert "<script>x()" not in html and "<b>Epic" not in html and "<u>t" not in html
    assert "<i>Pat" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;&quot;" in html
    assert "in PAY-1 &lt;b&gt;Epic&lt;/b&gt;" in html
    assert 'href="?tag=%3Cu%3Et%3C/u%3E">#&lt;u&gt;t&lt;/u&gt;' in html
    assert "&lt;i&gt;Pat&lt;/i&gt;" in html


def test_move_buttons_submit_the_one_move_form(as_user, pm, items):
    html = as_user(pm).get(BACKLOG + "?q=").content.decode()

    assert html.count('id="move-form"') == 1 and html.count("csrfmiddlewaretoken") < 6
    assert f'form="move-form" formaction="{item_url(items[0], "move/")}" name="to" value="top"' in (
        html
    )


def test_filters_live_in_the_url(as_user, pm, items):
    client = as_user(pm)
    html = client.get(BACKLOG + "?tag=growth").content.decode()
    assert "Checkout v2" in html and "SEPA" not in html
    html = client.get(BACKLOG + "?q=sepa").content.decode()
    assert "SEPA" in html and "Checkout v2" not in html
    html = client.get(BACKLOG + f"?q={items[2].key}").content.decode()
    assert "Unscored idea" in html and "SEPA" not in html


def test_sort_by_score_puts_unscored_last(as_user, pm, items):
    html = as_user(pm).get(BACKLOG + "?sort=-score").content.decode()
    assert html.index("Checkout v2") < html.index("SEPA") < html.index("Unscored idea")


def test_custom_field_is_a_filterable_sortable_column(as_user, pm, product, items):
    field = services.create_custom_field(
        pm, product=product, name="Segment", kind="select", options=["SMB", "Enterprise"]
    )
    item = Item.objects.get(pk=items[1].pk)
    services.update_item(
        pm,
        item=item,
        expected_version=item.version,
        fields={"custom": {str(field.pk): "Enterprise"}},
    )
    html = as_user(pm).get(BACKLOG + f"?cf{field.pk}=Enterprise").content.decode()
    assert f'sort=cf{field.pk}">Segment</a></th>' in html
    assert "SEPA" in html and "Checkout v2" not in html


def test_load_more_uses_a_keyset_cursor(as_user, pm, product):
    bulk_items(product, 60)
    client = as_user(pm)
    html = client.get(BACKLOG).content.decode()
    assert "Load more" in html and "after=" in html
    start = html.index("after=")
    cursor = html[start + 6 : html.index('"', start)].split("&")[0]
    rows = client.get(BACKLOG + f"?after={cursor}", **HX).content.decode()
    assert "<html" not in rows
    assert rows.count('<tr id="row-') == 10


@pytest.mark.parametrize("sort", ["rank", "-score", "title", "status", "owner", "effort"])
def test_query_count_does_not_grow_with_rows(as_user, pm, product, sort):
    client = as_user(pm)
    make_item(product, pm, tags=["a"])
    client.get(BACKLOG)  # settles the session

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BACKLOG + f"?sort={sort}").status_code == 200
        return len(ctx.captured_queries)

    few = count()
    bulk_items(product, 55)
    assert count() == few


# --- inline edits ----------------------------------------------------------------------------


def test_cell_edit_returns_the_row(as_user, pm, items):
    response = as_user(pm).post(
        item_url(items[0], "cell/title/"), {"value": "Renamed", "version": 1}, **HX
    )
    html = response.content.decode()
    assert html.lstrip().startswith(f'<tr id="row-{items[0].pk}"')
    assert "Renamed" in html
    assert Item.objects.get(pk=items[0].pk).title == "Renamed"


def test_stale_cell_edit_shows_a_conflict_and_overwrites_nothing(as_user, pm, teammate, items):
    item = Item.objects.get(pk=items[0].pk)
    services.update_item(
        teammate, item=item, expected_version=item.version, fields={"title": "Theirs"}
    )
    html = (
        as_user(pm)
        .post(item_url(items[0], "cell/title/"), {"value": "Mine", "version": 1}, **HX)
        .content.decode()
    )
    assert "someone else changed" in html and "Theirs" in html
    assert Item.objects.get(pk=items[0].pk).title == "Theirs"


def test_invalid_cell_value_puts_the_editor_back_into_its_cell(as_user, pm, items):
    response = as_user(pm).post(
        item_url(items[0], "cell/effort/"), {"value": "abc", "version": 1}, **HX
    )
    # The form targets the whole row (what a save answers); the editor with
    # its error goes back into the cell instead of replacing the row.
    assert response["HX-Retarget"] == "closest td"
    assert response["HX-Reswap"] == "innerHTML"
    assert response.content.decode().lstrip().startswith('<form class="cell-editor"')


def test_invalid_cell_value_shows_an_error(as_user, pm, items):
    html = (
        as_user(pm)
        .post(item_url(items[0], "cell/effort/"), {"value": "0", "version": 1}, **HX)
        .content.decode()
    )
    assert "errorlist" in html and "between 0.01" in html
    assert Item.objects.get(pk=items[0].pk).effort == 2


def test_editing_an_input_rescores_and_explains(as_user, pm, items):
    as_user(pm).post(item_url(items[0], "cell/effort/"), {"value": "4", "version": 1}, **HX)
    item = Item.objects.get(pk=items[0].pk)
    assert item.score == 25
    html = as_user(pm).get(item_url(item)).content.decode()
    assert "100 × 1 × 100% ÷ 4 = 25" in html
    assert "Input changed" in html and "50 → 25" in html


def test_item_page_form_save_and_conflict(as_user, pm, teammate, items):
    data = {
        "title": "Full edit",
        "type": "feature",
        "status": "planned",
        "version": 1,
        "reach": 10,
        "impact": 1,
        "confidence": 100,
        "effort": 1,
        "tags": "a, b",
    }
    response = as_user(pm).post(item_url(items[1]), data)
    assert response.status_code == 302
    item = Item.objects.get(pk=items[1].pk)
    # The title is edited in place above (item_doc), not in the side form.
    assert item.title == items[1].title and item.score == 10
    assert sorted(item.tags.values_list("name", flat=True)) == ["a", "b"]
    response = as_user(teammate).post(item_url(items[1]), {**data, "status": "candidate"})
    assert response.status_code == 409
    assert "Someone else saved" in response.content.decode()
    assert Item.objects.get(pk=items[1].pk).status == "planned"


def test_title_and_description_are_edited_in_place_with_the_version_check(
    as_user, pm, teammate, items
):
    doc = item_url(items[1], "doc/")
    saved = as_user(pm).post(doc, {"version": 1, "title": "Full edit", "description": "# Why"})
    assert saved.status_code == 302
    item = Item.objects.get(pk=items[1].pk)
    assert (item.title, item.description) == ("Full edit", "# Why")
    html = as_user(pm).get(item_url(item)).content.decode()
    assert html.index('id="item-doc"') < html.index('id="score"')  # the document comes first
    stale = as_user(teammate).post(doc, {"version": 1, "title": "Stale", "description": ""})
    assert stale.status_code == 409
    page = stale.content.decode()
    assert "Someone else saved" in page and 'value="Stale"' in page  # their text is kept
    assert Item.objects.get(pk=items[1].pk).title == "Full edit"
    long = as_user(pm).post(doc, {"version": item.version, "title": "x" * 300})
    assert long.status_code == 400 and "at most 255 characters" in long.content.decode()


def test_item_page_shows_history_with_old_and_new(as_user, pm, items):
    item = Item.objects.get(pk=items[0].pk)
    services.update_item(pm, item=item, expected_version=item.version, fields={"title": "After"})
    html = as_user(pm).get(item_url(item)).content.decode()
    assert "<del>Checkout v2</del>" in html and "<ins>After</ins>" in html


def test_item_history_reads_in_the_pages_words_and_formats(as_user, pm, teammate, items):
    """The history listed raw field names and floats (business_value: — → 8.0,
    reach: — → 5000.0)."""
    item = Item.objects.get(pk=items[1].pk)
    services.update_item(
        pm,
        item=item,
        expected_version=item.version,
        fields={
            "business_value": 8,
            "reach": 5000,
            "status": "in_progress",
            "owner": teammate,
            "description": "Why this matters",
        },
    )
    html = as_user(pm).get(item_url(item)).content.decode()
    history = html[html.index('id="history-title"') :]
    history = history[: history.index("</section>")]
    assert "business_value" not in history and "8.0" not in history and "5000.0" not in history
    assert "<ins>8</ins>" in history and "<ins>5,000</ins>" in history
    assert "<del>Idea</del> → <ins>In progress</ins>" in history
    assert f"Owner: <ins>{teammate.username}</ins>" in history
    assert "Added a description" in history


def test_declining_without_a_reason_is_an_error(as_user, pm, items):
    html = (
        as_user(pm)
        .post(item_url(items[0], "cell/status/"), {"value": "declined", "version": 1}, **HX)
        .content.decode()
    )
    assert "Say why" in html
    assert Item.objects.get(pk=items[0].pk).status == "idea"


# --- moves, bulk, views ----------------------------------------------------------------------


def test_drag_and_drop_move_writes_one_row(as_user, pm, items):
    client = as_user(pm)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(item_url(items[2], "move/"), {"before": items[0].pk}, **HX)
    assert response.status_code == 204
    updates = [
        q
        for q in ctx.captured_queries
        if q["sql"].startswith("UPDATE") and "backlog_item" in q["sql"]
    ]
    assert len(updates) == 1
    assert next(iter(Item.objects.order_by("rank").values_list("pk", flat=True))) == items[2].pk


def test_keyboard_moves(as_user, pm, items):
    client = as_user(pm)
    client.post(item_url(items[2], "move/"), {"to": "top"})
    client.post(item_url(items[0], "move/"), {"to": "down"})
    order = list(Item.objects.order_by("rank").values_list("title", flat=True))
    assert order == ["Unscored idea", "SEPA", "Checkout v2"]


def test_move_next_to_an_item_of_another_product_is_refused(as_user, pm, items, stranger):
    other = make_item(
        stranger.memberships.get().workspace.products.create(name="O", key="OO"), stranger
    )
    response = as_user(pm).post(item_url(items[0], "move/"), {"before": other.pk}, **HX)
    assert response.status_code == 409


def test_bulk_edit(as_user, pm, items, objective):
    response = as_user(pm).post(
        BACKLOG + "items/bulk/",
        {
            "items": [items[0].pk, items[1].pk],
            "status": "planned",
            "add_tag": "q1",
            "objective": objective.pk,
        },
    )
    assert response.status_code == 302
    for item in Item.objects.filter(pk__in=[items[0].pk, items[1].pk]):
        assert item.status == "planned"
        assert "q1" in item.tags.values_list("name", flat=True)
        assert objective in item.objectives.all()
    assert Item.objects.get(pk=items[2].pk).status == "idea"


def test_saved_views(as_user, pm, viewer, product, items):
    as_user(pm).post(BACKLOG + "views/save/", {"name": "Growth", "query": "tag=growth"})
    view = SavedView.objects.get(product=product)
    assert view.query == "tag=growth"
    html = as_user(viewer).get(BACKLOG).content.decode()
    assert 'href="?tag=growth"' in html  # viewers use saved views ...
    assert "Save view" not in html and "Delete view" not in html  # ... and change none


def test_a_viewers_forced_saved_view_writes_are_403(as_user, pm, viewer, product, items):
    view = services.save_view(pm, product=product, name="Growth", query="tag=growth")
    client = as_user(viewer)

    saved = client.post(BACKLOG + "views/save/", {"name": "Mine", "query": "tag=x"})
    deleted = client.post(BACKLOG + f"views/{view.pk}/delete/")

    assert saved.status_code == deleted.status_code == 403
    assert list(SavedView.objects.values_list("name", flat=True)) == ["Growth"]


def test_saved_view_takes_the_filters_the_table_shows_after_an_htmx_filter(as_user, pm, items):
    """The save form's hidden query was rendered with the page, so filtering
    on the page (htmx swaps only the results) and saving stored no filter."""
    client = as_user(pm)
    html = client.get(
        BACKLOG + "?q=growth", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="backlog-results"
    ).content.decode()
    assert '<input type="hidden" name="query" value="q=growth" form="save-view-form">' in html
    client.post(BACKLOG + "views/save/", {"name": "Growth", "query": "q=growth&after=abc"})
    assert SavedView.objects.get(name="Growth").query == "q=growth"


def test_quick_add_htmx_returns_the_new_row(as_user, pm, product):
    response = as_user(pm).post(
        BACKLOG + "items/new/", {"title": "From the quick add", "type": "bug"}, **HX
    )
    assert response.content.decode().lstrip().startswith("<tr id=")
    assert Item.objects.get(product=product).key == "PAY-1"


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("   ", "Give the item a title."),
        ("x" * 10_000, "Titles are at most 255 characters (this one has 10000)."),
    ],
)
def test_quick_add_refuses_a_bad_title_in_its_status_line(as_user, pm, product, title, message):
    """A whitespace-only title used to swap a whole backlog page into the table
    (the redirect was followed); a 10 000-character one was cut silently."""
    response = as_user(pm).post(BACKLOG + "items/new/", {"title": title, "type": "bug"}, **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#quick-add-status"
    assert response.content.decode() == message
    assert not Item.objects.filter(product=product).exists()


def test_quick_add_input_has_no_maxlength_that_would_cut_a_pasted_title(as_user, pm, product):
    html = as_user(pm).get(BACKLOG).content.decode()
    start = html.index('name="title"')
    tag = html[html.rindex("<input", 0, start) : html.index(">", start)]
    assert "maxlength" not in tag


def test_quick_add_tells_the_page_which_row_was_added(as_user, pm, product):
    response = as_user(pm).post(BACKLOG + "items/new/", {"title": "New", "type": "bug"}, **HX)
    item = Item.objects.get(product=product)
    assert json.loads(response["HX-Trigger-After-Settle"]) == {
        "item-added": {"key": item.key, "id": item.pk, "top": True}
    }


def test_chart_plots_value_against_effort(as_user, pm, items):
    html = as_user(pm).get(BACKLOG + "?view=chart").content.decode()
    assert html.count("<circle") == 2  # the unscored idea has no value/effort
    assert "Quick wins" in html and "1 without value or effort" in html


# --- scoring models and custom fields ----------------------------------------------------------


def test_activating_a_model_rescores_and_the_page_explains(
    as_user, pm, product, items, django_capture_on_commit_callbacks
):
    client = as_user(pm)
    client.post(BACKLOG + "scoring/new/", {"name": "V/E", "kind": "value_effort"})
    model = ScoringModel.objects.get(product=product, name="V/E")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(BACKLOG + f"scoring/{model.pk}/activate/")
    assert Item.objects.get(pk=items[0].pk).score == 4  # 8 ÷ 2
    html = client.get(item_url(items[0])).content.decode()
    assert "Scoring model changed" in html


def test_weighted_model_from_the_form(as_user, pm, product, items):
    client = as_user(pm)
    client.post(
        BACKLOG + "scoring/new/",
        {
            "name": "Mine",
            "kind": "weighted",
            "c_name": ["Value", "Effort", ""],
            "c_source": ["value", "effort", "value"],
            "c_weight": ["2", "1", "1"],
            "c_min": ["0", "0", "0"],
            "c_max": ["10", "4", "10"],
            "c_direction": ["higher", "lower", "higher"],
        },
    )
    model = ScoringModel.objects.get(product=product, name="Mine")
    assert [c["name"] for c in model.criteria] == ["Value", "Effort"]


def test_compare_two_models(as_user, pm, product, items):
    rice = BacklogSettings.objects.of(product).active_model
    ve = services.create_scoring_model(pm, product=product, name="VE", kind="value_effort")
    html = as_user(pm).get(BACKLOG + f"scoring/?a={rice.pk}&b={ve.pk}").content.decode()
    assert "Compare two models" in html and "SEPA" in html and "▲" in html


def test_custom_fields_page(as_user, pm, product):
    client = as_user(pm)
    response = client.post(
        BACKLOG + "fields/", {"name": "Segment", "kind": "select", "options": "A, B"}
    )
    assert response.status_code == 302
    assert CustomField.objects.get(product=product).options == ["A", "B"]
    html = client.post(
        BACKLOG + "fields/", {"name": "Empty", "kind": "select", "options": ""}
    ).content.decode()
    assert "at least one option" in html
