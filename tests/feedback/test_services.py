import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Item, ScoreChange
from feedback import reads, services
from feedback.models import Company, DemandQueue, Feedback, Insight, Person, State
from feedback.services import intake
from pmhub.activity.models import Event
from pmhub.errors import VersionConflict

# --- matching customers -------------------------------------------------------------------


def test_person_is_matched_by_email_case_insensitively(workspace, product, pm):
    a = services.create_feedback(pm, product=product, text="one", email="Bob@Shop.example")
    b = services.create_feedback(pm, product=product, text="two", email="bob@shop.EXAMPLE")

    assert a.person_id == b.person_id
    assert Person.objects.filter(workspace=workspace).count() == 1
    assert a.person.email == "bob@shop.example"


def test_company_is_matched_by_email_domain_and_explicit_domain(workspace, product, pm):
    a = services.create_feedback(pm, product=product, text="one", email="ann@globex.example")
    b = services.create_feedback(
        pm, product=product, text="two", company_name="Globex", domain="https://www.GLOBEX.example/"
    )
    c = services.create_feedback(pm, product=product, text="three", email="cy@globex.example")

    assert a.company_id == b.company_id == c.company_id
    assert Company.objects.filter(workspace=workspace).count() == 1
    assert a.company.domain == "globex.example"


def test_free_mail_domains_do_not_make_a_company(product, pm):
    f = services.create_feedback(pm, product=product, text="hi", email="someone@gmail.com")

    assert f.company is None
    assert f.person.email == "someone@gmail.com"


def test_company_matched_by_name_when_no_domain(workspace, product, pm):
    a = services.create_feedback(pm, product=product, text="one", company_name="Initech")
    b = services.create_feedback(pm, product=product, text="two", company_name="INITECH")

    assert a.company_id == b.company_id


def test_customers_of_other_workspaces_are_never_matched(product, pm, stranger):
    from tests.factories import ProductFactory

    other = ProductFactory(workspace=stranger.memberships.get().workspace, key="OTH")
    mine = services.create_feedback(pm, product=product, text="x", email="a@b.example")
    theirs = services.create_feedback(stranger, product=other, text="x", email="a@b.example")

    assert mine.person_id != theirs.person_id
    assert mine.company_id != theirs.company_id


def test_duplicate_company_domain_is_refused(workspace, pm):
    services.create_company(pm, workspace=workspace, name="Globex", domain="globex.example")

    with pytest.raises(ValidationError) as exc:
        services.create_company(pm, workspace=workspace, name="Globex 2", domain="GLOBEX.example")
    assert "domain" in exc.value.message_dict


def test_duplicate_person_email_is_refused(workspace, pm):
    services.create_person(pm, workspace=workspace, email="x@y.example")

    with pytest.raises(ValidationError):
        services.create_person(pm, workspace=workspace, email="X@Y.example")


# --- feedback -----------------------------------------------------------------------------


def test_viewer_cannot_add_feedback(product, viewer):
    with pytest.raises(PermissionDenied):
        services.create_feedback(viewer, product=product, text="hi")
    assert not Feedback.objects.exists()


def test_empty_text_is_a_field_error(product, pm):
    with pytest.raises(ValidationError) as exc:
        services.create_feedback(pm, product=product, text="   ")
    assert "text" in exc.value.message_dict


def test_external_id_makes_a_resend_change_nothing(product, pm):
    first = services.create_feedback(pm, product=product, text="one", external_id="zen-1")
    again = services.create_feedback(pm, product=product, text="changed?", external_id="zen-1")

    assert again.pk == first.pk
    assert again._created is False
    assert Feedback.objects.get().text == "one"


def test_a_resend_that_races_the_first_gets_the_stored_feedback(product, pm, monkeypatch):
    """Two requests with one external_id at once: the check finds nothing for
    both, the second insert hits the unique constraint — it answers with the
    first one's row instead of a 500."""
    first = services.create_feedback(pm, product=product, text="one", external_id="zen-9")
    real = intake._by_external_id
    calls = []

    def not_yet_committed(product, external_id):
        calls.append(external_id)
        return None if len(calls) == 1 else real(product, external_id)

    monkeypatch.setattr(intake, "_by_external_id", not_yet_committed)
    again = services.create_feedback(pm, product=product, text="two", external_id="zen-9")
    assert again.pk == first.pk and again._created is False and again.text == "one"
    assert Feedback.objects.filter(product=product, external_id="zen-9").count() == 1


def test_batch_with_a_bad_row_creates_nothing(product, pm):
    rows = [
        {"product": product, "text": "fine"},
        {"product": product, "text": ""},
        {"product": product, "text": "also fine", "source": "pigeon"},
    ]
    with pytest.raises(services.BatchInvalid) as exc:
        services.create_feedback_batch(pm, rows=rows)

    assert [r["index"] for r in exc.value.rows] == [1, 2]
    assert not Feedback.objects.exists()


def test_stale_feedback_edit_conflicts(product, pm, feedback):
    services.update_feedback(pm, feedback=feedback, expected_version=1, fields={"text": "new"})

    with pytest.raises(VersionConflict):
        services.update_feedback(
            pm, feedback=Feedback.objects.get(), expected_version=1, fields={"text": "lost"}
        )
    assert Feedback.objects.get().text == "new"


# --- insights -----------------------------------------------------------------------------


def test_link_creates_insight_with_snippet_and_triages(product, pm, feedback, items):
    insight = services.link_feedback(
        pm, feedback=feedback, item=items["sepa"], importance="critical", start=0, end=32
    )

    assert insight.snippet == "We need SEPA direct debit for ou"
    assert (insight.start, insight.end) == (0, 32)
    assert Feedback.objects.get().state == State.TRIAGED
    assert DemandQueue.objects.filter(item=items["sepa"]).exists()  # recomputed after commit


def test_link_without_selection_takes_the_whole_text(pm, feedback, items):
    insight = services.link_feedback(pm, feedback=feedback, item=items["sepa"], start="", end="")

    assert insight.snippet == feedback.text


def test_link_rejects_offsets_outside_the_text(pm, feedback, items):
    with pytest.raises(ValidationError):
        services.link_feedback(pm, feedback=feedback, item=items["sepa"], start=5, end=10_000)
    assert not Insight.objects.exists()


def test_link_to_an_item_of_another_product_is_refused(pm, feedback, workspace):
    from tests.backlog.factories import make_item
    from tests.factories import ProductFactory

    other_item = make_item(ProductFactory(workspace=workspace, key="OTH"), pm)
    with pytest.raises(ValidationError):
        services.link_feedback(pm, feedback=feedback, item=other_item)


def test_linking_twice_updates_the_one_insight(pm, feedback, items):
    services.link_feedback(pm, feedback=feedback, item=items["sepa"], importance="nice")
    services.link_feedback(pm, feedback=feedback, item=items["sepa"], importance="critical")

    assert Insight.objects.get().importance == "critical"


def test_viewer_cannot_link(viewer, feedback, items):
    with pytest.raises(PermissionDenied):
        services.link_feedback(viewer, feedback=feedback, item=items["sepa"])


def test_create_item_from_feedback_in_one_step(product, pm, feedback):
    insight = services.create_item_from_feedback(
        pm, feedback=feedback, title="SEPA for Germany", importance="important"
    )

    item = Item.objects.get(pk=insight.item_id)
    assert item.title == "SEPA for Germany"
    assert item.product == product
    assert "SEPA direct debit" in item.description
    assert Feedback.objects.get().state == State.TRIAGED


# --- demand ---------------------------------------------------------------------------------


def _company(workspace, pm, name, revenue, segment="enterprise"):
    return services.create_company(
        pm,
        workspace=workspace,
        name=name,
        domain=f"{name.lower()}.example",
        segment=segment,
        annual_revenue=revenue,
    )


def test_demand_follows_the_formula_and_lands_in_score_history(
    workspace, product, pm, items, committed
):
    company = _company(workspace, pm, "Globex", 999_000)  # 1 + 999 = 1000
    f = services.create_feedback(pm, product=product, text="SEPA please", company=company)

    with committed():
        services.link_feedback(pm, feedback=f, item=items["sepa"], importance="important")

    item = Item.objects.get(pk=items["sepa"].pk)
    # 1000 (revenue) × 2 (enterprise) × 2 (important) × ~1 (received now)
    assert item.demand == pytest.approx(4000, rel=1e-3)


def test_demand_changes_the_score_of_a_demand_model(workspace, product, pm, items, committed):
    model = backlog_services.create_scoring_model(
        pm,
        product=product,
        name="Demand",
        kind="weighted",
        criteria=[{"name": "Demand", "source": "demand", "weight": 1, "min": 0, "max": 10_000}],
    )
    backlog_services.activate_scoring_model(pm, product=product, model=model)
    backlog_services.recompute_scores(product.pk)
    f = services.create_feedback(
        pm, product=product, text="x", company=_company(workspace, pm, "Big", 999_000)
    )

    with committed():
        services.link_feedback(pm, feedback=f, item=items["sepa"], importance="important")

    item = Item.objects.get(pk=items["sepa"].pk)
    assert item.score == pytest.approx(40, rel=1e-3)
    change = ScoreChange.objects.filter(item=item).first()
    assert change.cause == "demand"
    assert "1 customer" in change.detail


def test_one_customer_counts_once_with_its_strongest_insight(
    workspace, product, pm, items, committed
):
    company = _company(workspace, pm, "Globex", 0, segment="smb")
    for importance in ("nice", "critical", "important"):
        f = services.create_feedback(pm, product=product, text="x", company=company)
        with committed():
            services.link_feedback(pm, feedback=f, item=items["sepa"], importance=importance)

    assert Item.objects.get(pk=items["sepa"].pk).demand == pytest.approx(3.0, rel=1e-3)


def test_old_feedback_counts_half_after_one_half_life(workspace, product, pm, items, committed):
    services.update_portal_settings(
        pm, product=product, expected_version=None, fields={"half_life_days": 30}
    )
    company = _company(workspace, pm, "Old", 0, segment="smb")
    f = services.create_feedback(
        pm,
        product=product,
        text="x",
        company=company,
        received_at=timezone.now() - dt.timedelta(days=30),
    )
    with committed():
        services.link_feedback(pm, feedback=f, item=items["sepa"], importance="nice")

    assert Item.objects.get(pk=items["sepa"].pk).demand == pytest.approx(0.5, abs=0.01)


def test_unlinking_drops_demand(pm, feedback, items, committed):
    with committed():
        insight = services.link_feedback(pm, feedback=feedback, item=items["sepa"])
    assert Item.objects.get(pk=items["sepa"].pk).demand > 0

    with committed():
        services.delete_insight(pm, insight=insight)

    assert Item.objects.get(pk=items["sepa"].pk).demand == 0


def test_revenue_change_requeues_demand(workspace, product, pm, items, committed):
    company = _company(workspace, pm, "Globex", 0, segment="smb")
    f = services.create_feedback(pm, product=product, text="x", company=company)
    with committed():
        services.link_feedback(pm, feedback=f, item=items["sepa"], importance="nice")

    with committed():
        services.update_company(
            pm, company=company, expected_version=company.version, fields={"annual_revenue": 9000}
        )

    assert Item.objects.get(pk=items["sepa"].pk).demand == pytest.approx(10.0)


def test_lost_task_is_finished_by_the_sweep(
    pm, feedback, items, django_capture_on_commit_callbacks
):
    # The enqueue after commit is lost (broker down): the queue row stays.
    with django_capture_on_commit_callbacks(execute=False):
        services.link_feedback(pm, feedback=feedback, item=items["sepa"])
    assert DemandQueue.objects.filter(item=items["sepa"]).exists()
    assert Item.objects.get(pk=items["sepa"].pk).demand is None

    assert services.sweep_demand() == 1

    assert not DemandQueue.objects.exists()
    assert Item.objects.get(pk=items["sepa"].pk).demand > 0


def test_a_new_customer_with_next_to_no_weight_still_counts(
    workspace, product, pm, items, committed
):
    """A change that added a customer (the panel said 13) left the score's
    history at 12: the new customer's weight was under the 0.1 % threshold."""
    big = _company(workspace, pm, "Big", Decimal("1000000"))
    with committed():
        f = services.create_feedback(pm, product=product, text="please", company=big)
        services.link_feedback(pm, feedback=f, item=items["sepa"])
    long_ago = timezone.now() - dt.timedelta(days=3650)  # weighs 0.5^40 of a customer
    old = services.create_feedback(
        pm, product=product, text="me too", email="ann@old.example", received_at=long_ago
    )
    with committed():
        services.link_feedback(pm, feedback=old, item=items["sepa"], importance="nice")
    item = Item.objects.get(pk=items["sepa"].pk)
    events = Event.objects.filter(object_type="backlog.item", object_id=item.pk)
    last = events.filter(changes__has_key="demand_customers").order_by("-id").first()
    assert last.changes["demand_customers"] == [None, 2]
    count = events.count()
    services.recompute_demand([item.pk])  # nothing new: nothing more is written
    assert events.count() == count


def test_recompute_is_idempotent(pm, feedback, items, committed):
    with committed():
        services.link_feedback(pm, feedback=feedback, item=items["sepa"])
    demand = Item.objects.get(pk=items["sepa"].pk).demand
    changes = ScoreChange.objects.count()

    services.recompute_demand([items["sepa"].pk])
    services.recompute_demand([items["sepa"].pk])

    assert Item.objects.get(pk=items["sepa"].pk).demand == demand
    assert ScoreChange.objects.count() == changes


def test_item_panel_summary_counts_distinct_customers_and_revenue(
    workspace, product, pm, items, committed
):
    big = _company(workspace, pm, "Big", Decimal("1000000"))
    small = _company(workspace, pm, "Small", Decimal("5000"), segment="smb")
    for company in (big, big, small):
        f = services.create_feedback(pm, product=product, text="please", company=company)
        with committed():
            services.link_feedback(pm, feedback=f, item=items["sepa"])

    summary = reads.item_demand_summary(items["sepa"])

    assert summary["customers"] == 2
    assert summary["revenue"] == Decimal("1005000")
    assert len(summary["insights"]) == 3


def test_state_change_from_a_stale_copy_still_moves_the_version_forward(product, pm):
    feedback = services.create_feedback(pm, product=product, text="Export to Xero")
    stale = Feedback.objects.get(pk=feedback.pk)
    edited = services.update_feedback(
        pm, feedback=feedback, expected_version=feedback.version, fields={"text": "Xero export"}
    )

    services.set_feedback_state(pm, feedback=stale, state=State.ARCHIVED)

    assert Feedback.objects.get(pk=feedback.pk).version == edited.version + 1
    with pytest.raises(VersionConflict):  # the editor's copy is outdated now
        services.update_feedback(
            pm, feedback=edited, expected_version=edited.version, fields={"text": "x"}
        )


def test_attaching_a_company_to_a_known_person_is_a_new_version(workspace, product, pm):
    person = services.create_person(pm, workspace=workspace, email="ann@gmail.com")

    services.create_feedback(
        pm, product=product, text="hi", email="ann@gmail.com", company_name="Initech"
    )

    person.refresh_from_db()
    assert person.company.name == "Initech"
    assert person.version == 2


def test_deleting_a_person_requeues_the_demand_of_their_feedback(
    workspace, product, pm, items, committed
):
    person = services.create_person(pm, workspace=workspace, email="ann@gmail.com")
    one = services.create_feedback(pm, product=product, text="SEPA please", person=person)
    two = services.create_feedback(pm, product=product, text="SEPA again", person=person)
    with committed():
        services.link_feedback(pm, feedback=one, item=items["sepa"])
        services.link_feedback(pm, feedback=two, item=items["sepa"])
    as_one_customer = Item.objects.get(pk=items["sepa"].pk).demand

    with committed():
        services.delete_person(pm, person=person, expected_version=person.version)

    # Without the person, each piece of feedback counts as a customer of its own.
    expected, customers = services.compute_item_demand(items["sepa"].pk, product)
    assert customers == 2
    assert expected != pytest.approx(as_one_customer)
    assert Item.objects.get(pk=items["sepa"].pk).demand == pytest.approx(expected)
