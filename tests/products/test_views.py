import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products.models import Competitor, KeyResult, Objective, Product, Vision
from tests.factories import CompetitorFactory, KeyResultFactory, ObjectiveFactory, PersonaFactory

HX = {"HTTP_HX_REQUEST": "true"}


def strategy_url(product):
    return f"/w/{product.workspace.slug}/p/{product.key}/"


def edit_url(product, kind, pk=None):
    return (
        f"/w/{product.workspace.slug}/p/{product.key}/{kind}/" + (f"{pk}/" if pk else "") + "edit/"
    )


# --- role matrix -------------------------------------------------------------------

READ_PAGES = [
    lambda p, o: f"/w/{p.workspace.slug}/",
    lambda p, o: f"/w/{p.workspace.slug}/members/",
    lambda p, o: strategy_url(p),
    lambda p, o: f"/w/{p.workspace.slug}/p/{p.key}/vision/history/",
]
EDIT_PAGES = [
    lambda p, o: edit_url(p, "vision"),
    lambda p, o: edit_url(p, "product"),
    lambda p, o: edit_url(p, "objective", o.pk),
    lambda p, o: f"/w/{p.workspace.slug}/p/{p.key}/objective/new/",
    lambda p, o: f"/w/{p.workspace.slug}/p/{p.key}/objective/{o.pk}/keyresult/new/",
]


@pytest.mark.parametrize("page", READ_PAGES + EDIT_PAGES)
def test_stranger_gets_404_everywhere(as_user, stranger, strategy, objective, page):
    assert as_user(stranger).get(page(strategy, objective)).status_code == 404


@pytest.mark.parametrize("page", READ_PAGES)
def test_viewer_reads_every_page(as_user, viewer, strategy, objective, page):
    assert as_user(viewer).get(page(strategy, objective)).status_code == 200


@pytest.mark.parametrize("page", EDIT_PAGES)
def test_viewer_gets_403_on_edit_forms_and_forced_posts(as_user, viewer, strategy, objective, page):
    client = as_user(viewer)
    url = page(strategy, objective)
    assert client.get(url).status_code == 403
    assert client.post(url, {"title": "x", "statement": "x", "name": "x"}).status_code == 403
    assert Objective.objects.get(pk=objective.pk).version == 1
    assert Vision.objects.get(product=strategy).version == 1


@pytest.mark.parametrize("page", READ_PAGES + EDIT_PAGES)
def test_editor_opens_every_page(as_user, teammate, strategy, objective, page):
    assert as_user(teammate).get(page(strategy, objective)).status_code == 200


def test_viewer_sees_no_edit_controls(as_user, viewer, strategy):
    html = as_user(viewer).get(strategy_url(strategy)).content.decode()
    assert "/edit/" not in html
    assert "/p/PAY/objective/new/" not in html
    assert ">Edit<" not in html


def test_editor_sees_edit_controls(as_user, teammate, strategy):
    html = as_user(teammate).get(strategy_url(strategy)).content.decode()
    assert edit_url(strategy, "vision") in html


def test_viewer_cannot_delete(as_user, viewer, strategy, competitor):
    url = f"/w/acme/p/PAY/competitor/{competitor.pk}/delete/"
    assert as_user(viewer).post(url).status_code == 403
    assert Competitor.objects.filter(pk=competitor.pk).exists()


def test_anonymous_is_sent_to_login(client, strategy):
    response = client.get(strategy_url(strategy))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- in-place editing ----------------------------------------------------------------


def test_edit_form_htmx_returns_only_the_partial(as_user, pm, strategy):
    response = as_user(pm).get(edit_url(strategy, "vision"), **HX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith("<form")
    assert "<html" not in html
    assert 'name="version"' in html


def test_edit_form_without_htmx_is_a_full_page(as_user, pm, strategy):
    html = as_user(pm).get(edit_url(strategy, "vision")).content.decode()
    assert "<html" in html and "<form" in html


def test_saving_the_vision_swaps_the_display_back(as_user, pm, strategy):
    response = as_user(pm).post(
        edit_url(strategy, "vision"),
        {"statement": "Payments *anywhere*", "version": 1},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="vision"')
    assert "<em>anywhere</em>" in html
    vision = Vision.objects.get(product=strategy)
    assert (vision.statement, vision.version) == ("Payments *anywhere*", 2)


def test_saving_without_htmx_redirects_to_the_page(as_user, pm, strategy):
    response = as_user(pm).post(edit_url(strategy, "vision"), {"statement": "New", "version": 1})
    assert response.status_code == 302
    assert response["Location"] == strategy_url(strategy)


def test_stale_save_shows_a_conflict_and_overwrites_nothing(as_user, pm, teammate, strategy):
    as_user(teammate).post(
        edit_url(strategy, "vision"), {"statement": "Theirs", "version": 1}, **HX
    )
    response = as_user(pm).post(
        edit_url(strategy, "vision"), {"statement": "Mine", "version": 1}, **HX
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Someone else saved this vision first" in html
    assert "Theirs" in html and "Mine" in html  # both versions are shown
    assert 'name="version" value="2"' in html  # saving again is a deliberate overwrite
    assert Vision.objects.get(product=strategy).statement == "Theirs"


def test_stale_save_without_htmx_is_a_409_page(as_user, pm, teammate, objective):
    product = objective.product
    data = {"title": "Mine", "status": "on_track", "version": 1}
    as_user(teammate).post(
        edit_url(product, "objective", objective.pk), {**data, "title": "Theirs"}
    )
    response = as_user(pm).post(edit_url(product, "objective", objective.pk), data)
    assert response.status_code == 409
    assert Objective.objects.get(pk=objective.pk).title == "Theirs"


def test_invalid_input_shows_inline_errors_and_saves_nothing(as_user, pm, key_result):
    product = key_result.objective.product
    response = as_user(pm).post(
        edit_url(product, "keyresult", key_result.pk),
        {"name": "KR", "start_value": 5, "target_value": 5, "direction": "increase", "version": 1},
        **HX,
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "errorlist" in html and "must differ" in html
    assert KeyResult.objects.get(pk=key_result.pk).version == 1


def test_markdown_is_sanitized(as_user, pm, strategy):
    as_user(pm).post(
        edit_url(strategy, "vision"),
        {
            "statement": "<script>alert(1)</script> [x](javascript:alert(2)) <b onclick=z>hi</b>",
            "version": 1,
        },
        **HX,
    )
    html = as_user(pm).get(strategy_url(strategy)).content.decode()
    assert "<script>alert(1)" not in html
    assert "javascript:alert" not in html
    assert "onclick" not in html


def test_creating_a_key_result_rerenders_its_objective(as_user, pm, objective):
    product = objective.product
    response = as_user(pm).post(
        f"/w/acme/p/PAY/objective/{objective.pk}/keyresult/new/",
        {
            "name": "NPS",
            "start_value": 10,
            "target_value": 50,
            "current_value": 30,
            "direction": "increase",
        },
        **HX,
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#objective-{objective.pk}"
    assert "NPS" in response.content.decode()
    assert KeyResult.objects.filter(objective=objective, name="NPS").exists()
    assert product.pk


def test_creating_an_objective_rerenders_the_section(as_user, pm, product):
    response = as_user(pm).post(
        "/w/acme/p/PAY/objective/new/", {"title": "Win the EU", "status": "on_track"}, **HX
    )
    assert response["HX-Retarget"] == "#objectives"
    assert "Win the EU" in response.content.decode()


def test_deleting_a_competitor(as_user, pm, competitor):
    response = as_user(pm).post(f"/w/acme/p/PAY/competitor/{competitor.pk}/delete/", **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#competitors"
    assert not Competitor.objects.filter(pk=competitor.pk).exists()


def test_cancel_returns_the_display_partial(as_user, pm, objective):
    response = as_user(pm).get(f"/w/acme/p/PAY/objective/{objective.pk}/", **HX)
    assert response.content.decode().lstrip().startswith(f'<article id="objective-{objective.pk}"')


# --- products on the workspace home ------------------------------------------------


def test_the_workspace_home_leads_to_roadmaps_portfolios_and_each_products_pages(
    as_user, pm, product
):
    html = as_user(pm).get("/w/acme/").content.decode()
    assert 'href="/w/acme/roadmaps/"' in html  # roadmaps and portfolios
    assert 'href="/w/acme/p/PAY/roadmaps/"' in html and 'href="/w/acme/p/PAY/metrics/"' in html


def test_create_product_from_the_home_page(as_user, pm, workspace):
    response = as_user(pm).post(
        "/w/acme/products/new/", {"name": "Insights", "key": "ins", "stage": "research"}
    )
    assert response.status_code == 302
    assert Product.objects.get(workspace=workspace, key="INS").name == "Insights"


def test_duplicate_product_key_is_a_form_error(as_user, pm, product):
    response = as_user(pm).post(
        "/w/acme/products/new/", {"name": "X", "key": "PAY", "stage": "research"}
    )
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert Product.objects.filter(key="PAY").count() == 1


# --- query counts --------------------------------------------------------------------


def _grow(product, n):
    for _ in range(n):
        objective = ObjectiveFactory(product=product)
        KeyResultFactory.create_batch(2, objective=objective)
        CompetitorFactory(product=product)
        PersonaFactory(product=product)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/w/acme/p/PAY/", "/w/acme/"])
def test_page_query_count_does_not_grow_with_rows(as_user, pm, product, url):
    client = as_user(pm)
    client.get(url)  # the first visit stores the current workspace in the session
    _grow(product, 3)
    few = _count(client, url)
    _grow(product, 10)
    assert _count(client, url) == few
