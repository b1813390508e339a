"""First run: the workspace home's checklist ticks itself from the data,
each step one click from the last."""

import re

import pytest
from django.urls import reverse

from backlog import services as backlog_services
from pmhub.onboarding import SESSION_KEY
from products import services as product_services
from roadmaps import services as roadmap_services
from roadmaps.models import Layout

pytestmark = pytest.mark.django_db

HOME = "/w/acme/"


def steps(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<li class="is-(done|next|open)" data-step="(\w+)">', html)


def test_new_workspace_walks_from_product_to_share_link(client, pm, workspace):
    client.force_login(pm)
    html = client.get(HOME).content.decode()
    assert steps(html) == [
        ("next", "product"),
        ("open", "vision"),
        ("open", "items"),
        ("open", "roadmap"),
        ("open", "share"),
    ]
    assert "Create a product" in html and "Share it with a link" in html
    response = client.post(
        reverse("products:product-create", args=["acme"]),
        {"name": "Payments", "key": "PAY", "stage": "planning"},
    )
    assert response.status_code == 302
    product = workspace.products.get(key="PAY")
    html = client.get(HOME).content.decode()
    assert steps(html)[:2] == [("done", "product"), ("next", "vision")]
    vision_url = reverse("products:region-edit", args=["acme", "PAY", "vision"])
    assert f'href="{vision_url}"' in html
    # The pages in between show the next step, one click away.
    page = client.get(reverse("backlog:backlog", args=["acme", "PAY"])).content.decode()
    assert "step 2 of 5" in page and f'href="{vision_url}"' in page

    vision = product_services.vision_of(product)
    product_services.update_vision(
        pm, vision=vision, expected_version=vision.version, fields={"statement": "Pay in one click"}
    )
    assert steps(client.get(HOME).content.decode())[2] == ("next", "items")
    backlog_services.create_item(pm, product=product, title="One-click checkout")
    assert steps(client.get(HOME).content.decode())[3] == ("next", "roadmap")
    roadmap = roadmap_services.create_roadmap(
        pm, workspace=workspace, product=product, name="Plan", layout=Layout.NOW_NEXT_LATER
    )
    html = client.get(HOME).content.decode()
    share_url = reverse("roadmaps:roadmap-share", args=["acme", roadmap.pk])
    assert steps(html)[4] == ("next", "share") and f'href="{share_url}"' in html
    roadmap_services.create_share_link(pm, roadmap=roadmap, label="Board")
    page = client.get(reverse("backlog:backlog", args=["acme", "PAY"])).content.decode()
    assert "All set: your roadmap is shared." in page
    assert SESSION_KEY not in client.session
    assert "Get started" not in client.get(HOME).content.decode()


def test_viewers_and_finished_workspaces_get_no_checklist(client, viewer, pm, product):
    client.force_login(viewer)
    assert "Get started" not in client.get(HOME).content.decode()
    client.force_login(pm)
    assert "Get started" in client.get(HOME).content.decode()


def test_pages_show_no_next_step_without_the_first_run_mark(client, pm, product):
    client.force_login(pm)
    html = client.get(reverse("backlog:backlog", args=["acme", "PAY"])).content.decode()
    assert "Getting started" not in html
