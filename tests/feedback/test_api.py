import pytest

from feedback import services
from feedback.models import Company, Feedback, Insight, Person
from tests.conftest import api_client_for
from tests.factories import ProductFactory

API = "/api/v1/"


def test_post_one_feedback_matches_the_customer(api, product):
    response = api.post(
        API + "feedback/",
        {"product": product.pk, "text": "Need iDEAL", "email": "Ann@Shop.example", "tags": ["eu"]},
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["source"] == "api"
    assert response["ETag"].startswith('"1.')
    f = Feedback.objects.get()
    assert f.person.email == "ann@shop.example"
    assert f.company.domain == "shop.example"
    assert body["person"] == f.person_id


def test_post_a_batch_then_resend_changes_nothing(api, product):
    rows = [
        {
            "product": product.pk,
            "text": f"Ticket {n}",
            "external_id": f"zd-{n}",
            "email": f"u{n}@a.example",
        }
        for n in range(5)
    ]

    first = api.post(API + "feedback/", rows)
    assert first.status_code == 201, first.json()
    assert first.json()["created"] == 5
    snapshot = list(Feedback.objects.order_by("pk").values_list("pk", "version", "text"))

    again = api.post(API + "feedback/", rows)

    assert again.status_code == 200
    assert again.json() == {**again.json(), "created": 0, "unchanged": 5}
    assert list(Feedback.objects.order_by("pk").values_list("pk", "version", "text")) == snapshot
    assert Person.objects.count() == 5 and Company.objects.count() == 1


def test_batch_with_bad_rows_reports_each_and_creates_nothing(api, product):
    rows = [
        {"product": product.pk, "text": "fine"},
        {"product": product.pk, "text": ""},
        {"product": product.pk, "text": "x", "source": "pigeon"},
        {"product": product.pk, "text": "x", "email": "nope"},
    ]

    response = api.post(API + "feedback/", rows)

    assert response.status_code == 400
    errors = response.json()["rows"]
    assert [e["index"] for e in errors] == [1, 2, 3]
    assert "text" in errors[0]["errors"] and "source" in errors[1]["errors"]
    assert not Feedback.objects.exists()


def test_batch_over_1000_rows_is_refused(api, product):
    rows = [{"product": product.pk, "text": "x"}] * 1001
    response = api.post(API + "feedback/", rows)
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_batch_for_another_workspace_product_is_a_row_error(api, stranger):
    other = ProductFactory(workspace=stranger.memberships.get().workspace, key="OTH")
    response = api.post(API + "feedback/", [{"product": other.pk, "text": "x"}])
    assert response.status_code == 400
    assert "product" in response.json()["rows"][0]["errors"]


def test_read_only_token_cannot_post(pm, product):
    client = api_client_for(pm, read_only=True)
    assert client.post(API + "feedback/", {"product": product.pk, "text": "x"}).status_code == 403


def test_viewer_cannot_post(viewer, product):
    client = api_client_for(viewer)
    assert client.post(API + "feedback/", {"product": product.pk, "text": "x"}).status_code == 403


def test_stranger_gets_404_on_feedback(pm, stranger, feedback):
    client = api_client_for(stranger)
    assert client.get(f"{API}feedback/{feedback.pk}/").status_code == 404
    assert client.get(API + "feedback/").json()["results"] == []


def test_stale_if_match_is_412(api, feedback):
    api.patch(f"{API}feedback/{feedback.pk}/", {"state": "archived"}, HTTP_IF_MATCH='"1"')

    response = api.patch(f"{API}feedback/{feedback.pk}/", {"text": "lost"}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert Feedback.objects.get().text != "lost"


@pytest.mark.parametrize("resource", ["feedback", "customers", "people", "insights"])
def test_list_query_count_is_constant(
    api, pm, product, items, resource, django_assert_max_num_queries
):
    def add(n):
        for k in range(n):
            f = services.create_feedback(
                pm, product=product, text=f"t{k}", email=f"p{k}-{n}@c{k}-{n}.example"
            )
            services.link_feedback(pm, feedback=f, item=items["sepa" if k % 2 else "apple"])

    add(3)
    api.get(API + resource + "/")
    with django_assert_max_num_queries(8) as small:
        assert len(api.get(API + resource + "/").json()["results"]) >= 3
    add(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get(API + resource + "/").json()["results"]) >= 13


def test_insight_api_links_and_unlinks(api, feedback, items, committed):
    with committed():
        response = api.post(
            API + "insights/",
            {
                "feedback": feedback.pk,
                "item": items["sepa"].pk,
                "importance": "critical",
                "start": 0,
                "end": 7,
            },
        )
    assert response.status_code == 201, response.json()
    assert response.json()["snippet"] == "We need"
    items["sepa"].refresh_from_db()
    assert items["sepa"].demand > 0

    with committed():
        assert api.delete(f"{API}insights/{response.json()['id']}/").status_code == 204
    items["sepa"].refresh_from_db()
    assert items["sepa"].demand == 0
    assert not Insight.objects.exists()


def test_insight_with_item_of_another_product_is_400(api, pm, workspace, feedback):
    from tests.backlog.factories import make_item

    other = make_item(ProductFactory(workspace=workspace, key="OTH"), pm)
    response = api.post(API + "insights/", {"feedback": feedback.pk, "item": other.pk})
    assert response.status_code == 400


def test_customers_api_create_duplicate_domain_is_400(api, workspace):
    body = {
        "workspace": workspace.pk,
        "name": "Globex",
        "domain": "globex.example",
        "segment": "enterprise",
        "annual_revenue": "1000000",
    }
    assert api.post(API + "customers/", body).status_code == 201
    response = api.post(API + "customers/", {**body, "domain": "GLOBEX.example"})
    assert response.status_code == 400
    assert "domain" in response.json()


def test_people_api_filters_by_company(api, pm, workspace, product):
    services.create_feedback(pm, product=product, text="x", email="a@globex.example")
    services.create_feedback(pm, product=product, text="x", email="b@initech.example")
    globex = Company.objects.get(domain="globex.example")

    rows = api.get(API + "people/", {"company": globex.pk}).json()["results"]

    assert [r["email"] for r in rows] == ["a@globex.example"]
