"""Optimistic concurrency under real contention (PostgreSQL).

Two writers holding the same version are released at the same moment by a
barrier; exactly one may win, the other gets a conflict, and the row shows
the winner's write. Through the service, through the API (200 / 412), and
through the HTML form (a stale save shows a conflict, never overwrites).
"""

import threading

import pytest
from django.db import connection

from pmhub.errors import VersionConflict
from products.models import Objective
from products.services import update_objective
from tests.conftest import api_client_for, require
from tests.factories import ObjectiveFactory

ROUNDS = 25
BARRIER_TIMEOUT = 20
JOIN_TIMEOUT = 60


def _race(workers):
    """Run each callable in its own thread (own DB connection), released together.

    Returns one ``("ok", value)`` or ``("error", exception)`` per worker, in order.
    """
    barrier = threading.Barrier(len(workers), timeout=BARRIER_TIMEOUT)
    outcomes = [None] * len(workers)

    def run(index, work):
        try:
            outcomes[index] = ("ok", work(barrier))
        except BaseException as exc:
            outcomes[index] = ("error", exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, work), name=f"writer-{i}")
        for i, work in enumerate(workers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    return outcomes


def _service_writer(user, objective_pk, title):
    def work(barrier):
        objective = Objective.objects.get(pk=objective_pk)  # fresh, in this thread
        barrier.wait()
        return update_objective(
            user, objective=objective, expected_version=1, fields={"title": title}
        )

    return work


def _api_writer(client, objective_pk, title):
    def work(barrier):
        barrier.wait()
        response = client.patch(
            f"/api/v1/objectives/{objective_pk}/",
            {"title": title},
            format="json",
            headers={"If-Match": '"1"'},
        )
        return response.status_code

    return work


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_writers_same_version_exactly_one_wins(pm, teammate, product):
    require(connection.vendor == "postgresql", "the concurrency test needs PostgreSQL")
    for round_no in range(ROUNDS):
        objective = ObjectiveFactory(product=product, title=f"Round {round_no}")
        assert objective.version == 1
        outcomes = _race(
            [
                _service_writer(pm, objective.pk, "A"),
                _service_writer(teammate, objective.pk, "B"),
            ]
        )
        wins = [i for i, (kind, _) in enumerate(outcomes) if kind == "ok"]
        losses = [value for kind, value in outcomes if kind == "error"]
        assert len(wins) == 1, f"round {round_no}: {outcomes}"
        assert len(losses) == 1 and isinstance(losses[0], VersionConflict), (
            f"round {round_no}: {outcomes}"
        )
        assert losses[0].current is not None and losses[0].current.version == 2
        objective.refresh_from_db()
        assert objective.version == 2
        assert objective.title == "AB"[wins[0]]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_two_api_patches_same_if_match_get_200_and_412(pm, teammate, product):
    require(connection.vendor == "postgresql", "the concurrency test needs PostgreSQL")
    clients = [api_client_for(pm), api_client_for(teammate)]
    for round_no in range(ROUNDS):
        objective = ObjectiveFactory(product=product, title=f"Round {round_no}")
        outcomes = _race(
            [
                _api_writer(clients[0], objective.pk, "A"),
                _api_writer(clients[1], objective.pk, "B"),
            ]
        )
        assert all(kind == "ok" for kind, _ in outcomes), f"round {round_no}: {outcomes}"
        statuses = [status for _, status in outcomes]
        assert sorted(statuses) == [200, 412], f"round {round_no}: {statuses}"
        objective.refresh_from_db()
        assert objective.version == 2
        assert objective.title == "AB"[statuses.index(200)]


def _objective_form(objective, **changes):
    data = {
        "title": objective.title,
        "why": objective.why,
        "period": objective.period,
        "status": objective.status,
        "owner": objective.owner_id or "",
        "version": objective.version,
    }
    data.update(changes)
    return data


@pytest.mark.integration
@pytest.mark.django_db
def test_stale_html_form_save_shows_conflict_and_keeps_first_save(as_user, pm, objective):
    client = as_user(pm)
    url = f"/w/acme/p/PAY/objective/{objective.pk}/edit/"
    form = _objective_form(objective)  # both tabs opened the form at version 1

    first = client.post(url, {**form, "title": "First save"})
    assert first.status_code == 302

    second = client.post(url, {**form, "title": "Second save"})
    assert second.status_code == 409
    body = second.content.decode()
    assert "Someone else saved" in body
    assert "First save" in body  # their saved version is shown
    assert "Second save" in body  # your changes are still in the form

    objective.refresh_from_db()
    assert objective.title == "First save"
    assert objective.version == 2


@pytest.mark.integration
@pytest.mark.django_db
def test_stale_htmx_form_save_swaps_in_conflict_and_keeps_first_save(as_user, pm, objective):
    client = as_user(pm)
    url = f"/w/acme/p/PAY/objective/{objective.pk}/edit/"
    form = _objective_form(objective)
    htmx = {"HX-Request": "true"}

    first = client.post(url, {**form, "title": "First save"}, headers=htmx)
    assert first.status_code == 200
    assert "First save" in first.content.decode()

    second = client.post(url, {**form, "title": "Second save"}, headers=htmx)
    assert second.status_code == 200  # htmx only swaps 2xx responses
    assert "Someone else saved" in second.content.decode()

    objective.refresh_from_db()
    assert objective.title == "First save"
    assert objective.version == 2
