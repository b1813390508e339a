"""Shared by the products API tests: resources, URLs, payloads, rows."""

from django.urls import reverse
from rest_framework.test import APIClient

from products.models import (
    Competitor,
    KeyResult,
    Objective,
    Persona,
    Product,
)
from tests.factories import (
    CompetitorFactory,
    KeyResultFactory,
    ObjectiveFactory,
    PersonaFactory,
    ProductFactory,
)

RESOURCES = ["product", "objective", "key-result", "competitor", "persona"]
MODELS = {
    "product": Product,
    "objective": Objective,
    "key-result": KeyResult,
    "competitor": Competitor,
    "persona": Persona,
}
# A plain text field that a PATCH can change on each resource.
TEXT_FIELD = {
    "product": "name",
    "objective": "title",
    "key-result": "name",
    "competitor": "name",
    "persona": "name",
}


def list_url(resource: str) -> str:
    return reverse(f"{resource}-list")


def detail_url(resource: str, pk: int) -> str:
    return reverse(f"{resource}-detail", args=[pk])


def existing(resource: str, product: Product):
    """The one row of ``resource`` that the ``strategy`` fixture made."""
    if resource == "product":
        return product
    return MODELS[resource].objects.get()


def new_payload(resource: str, product: Product) -> dict:
    """A valid POST body for ``resource`` inside ``product``'s workspace."""
    objective = product.objectives.first()
    return {
        "product": {"workspace": product.workspace_id, "name": "Billing", "key": "BILL"},
        "objective": {"product": product.pk, "title": "Retain customers", "period": "2027 H1"},
        "key-result": {
            "objective": objective.pk if objective else None,
            "name": "Monthly churn",
            "unit": "%",
            "start_value": 5,
            "target_value": 2,
        },
        "competitor": {"product": product.pk, "name": "Adyen", "threat_level": "high"},
        "persona": {"product": product.pk, "name": "Sam", "role": "Finance lead"},
    }[resource]


def put_payload(resource: str, value: str) -> dict:
    body = {TEXT_FIELD[resource]: value}
    if resource == "key-result":
        body["target_value"] = 100
    return body


def make_rows(resource: str, product: Product, n: int) -> list:
    """``n`` more rows of ``resource`` in ``product``'s workspace."""
    if resource == "product":
        return ProductFactory.create_batch(n, workspace=product.workspace)
    if resource == "objective":
        objectives = ObjectiveFactory.create_batch(n, product=product)
        for objective in objectives:
            KeyResultFactory.create_batch(2, objective=objective)
        return objectives
    if resource == "key-result":
        return KeyResultFactory.create_batch(n, objective=ObjectiveFactory(product=product))
    if resource == "competitor":
        return CompetitorFactory.create_batch(n, product=product)
    return PersonaFactory.create_batch(n, product=product)


def all_ids(client: APIClient, url: str, params: dict | None = None) -> list[int]:
    """Follow ``next`` until it is null, collecting ids in order."""
    ids: list[int] = []
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        ids += [row["id"] for row in response.json()["results"]]
        if response.json()["next"] is None:
            return ids
        response = client.get(response.json()["next"])
