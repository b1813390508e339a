"""A GET of any backlog page writes nothing: no INSERT, UPDATE or DELETE,
for editors and viewers, on a product whose backlog nobody opened before
(its settings and scoring model were made with the product)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backlog import importing, services
from metrics import services as metrics
from products.models import Product
from tests.factories import ProductFactory

from .factories import make_item, make_rice_item

HX = {"HTTP_HX_REQUEST": "true"}
WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE")


@pytest.fixture
def fresh(workspace, pm):
    """A product nobody has opened, with a few items, a field, a hypothesis and an import."""
    product = ProductFactory(workspace=workspace, name="Fresh", key="NEW")
    first = make_rice_item(product, pm, title="Scored", reach=10, tags=["a"], effort=2, value=3)
    make_item(product, pm, title="Unscored")
    services.create_custom_field(pm, product=product, name="Segment", kind="text")
    shipped = make_item(product, pm, title="Shipped", status="shipped")
    metric = metrics.create_metric(pm, product=product, name="Signups")
    services.save_hypothesis(
        pm,
        item=shipped,
        expected_version=None,
        fields={"metric": metric, "expected_change": 10, "window_days": 7},
    )
    job = importing.start_import(pm, product=product, filename="a.csv", raw=b"Summary\nOne\n")
    return {"product": product, "item": first, "job": job}


def _pages(product: Product, item, job) -> list[tuple[str, dict]]:
    base = f"/w/{product.workspace.slug}/p/{product.key}/backlog/"
    item_url = f"{base}items/{item.number}/"
    return [
        (base, {}),
        (base + "?sort=-score", {}),
        (base + "?sort=owner&status=idea", {}),
        (base + "?view=chart", {}),
        (base + "?q=Scored", {"HTTP_HX_TARGET": "backlog-results", **HX}),
        (item_url, {}),
        (item_url + "cell/title/", HX),
        (item_url + "cell/title/?row=1", HX),
        (item_url + "launch/", {}),
        (base + "scoring/", {}),
        (base + "scoring/progress/?was=pending", HX),
        (base + "fields/", {}),
        (base + "import/", {}),
        (base + f"import/{job.pk}/", {}),
        (base + "export/", {}),
        (base + "export/?format=json", {}),
        (base + "launch-reviews/", {}),
    ]


def _writes(client, url, headers) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
        assert response.status_code == 200, (url, response.status_code)
        if response.streaming:
            b"".join(response.streaming_content)
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


@pytest.mark.parametrize("role", ["pm", "viewer"])
def test_no_backlog_page_writes_on_get(as_user, request, fresh, role):
    client = as_user(request.getfixturevalue(role))
    pages = _pages(**fresh)
    client.get(pages[0][0])  # the session remembers the workspace: settled before we count

    for url, headers in pages:
        if role == "viewer" and ("/cell/" in url or "/import/" in url):
            continue  # an editor's page: viewers get 403
        assert _writes(client, url, headers) == [], url


def test_the_first_page_of_more_rows_writes_nothing_either(as_user, pm, fresh):
    product = fresh["product"]
    for n in range(55):
        make_item(product, pm, title=f"Item {n}", reach=n)
    client = as_user(pm)
    html = client.get(f"/w/acme/p/{product.key}/backlog/?sort=title").content.decode()
    assert "Load more" in html
    start = html.index("after=")
    cursor = html[start + 6 : html.index('"', start)].split("&")[0]

    assert _writes(client, f"/w/acme/p/{product.key}/backlog/?sort=title&after={cursor}", HX) == []
