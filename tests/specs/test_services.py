"""Specs: versions, review states, stale approvals, diffs, the Markdown
export, permissions and the events each write records."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pmhub.activity.models import Event
from pmhub.errors import VersionConflict
from specs import reads, services
from specs.models import Spec, SpecState, SpecVersion, Verdict


def verbs_of(spec):
    return list(
        Event.objects.filter(object_type="specs.spec", object_id=spec.pk)
        .order_by("id")
        .values_list("verb", flat=True)
    )


def test_creating_a_spec_stores_version_one_and_records_it(spec, pm):
    assert spec.version == 1
    assert spec.state == SpecState.DRAFT
    assert list(spec.versions.values_list("number", flat=True)) == [1]
    assert SpecVersion.objects.get(spec=spec).sections["problem"] == "Shoppers retype cards."
    assert verbs_of(spec) == ["spec.created"]


def test_an_item_has_at_most_one_spec(spec, item, pm):
    with pytest.raises(ValidationError) as exc:
        services.create_spec(pm, item=item, problem="again")
    assert "item" in exc.value.message_dict


def test_each_save_is_a_version_and_a_stale_save_is_refused(spec, pm, teammate):
    saved = services.update_spec(pm, spec=spec, expected_version=1, fields={"goals": "- Faster"})
    assert saved.version == 2
    stale = Spec.objects.get(pk=spec.pk)
    stale.version = 1
    with pytest.raises(VersionConflict) as exc:
        services.update_spec(
            teammate, spec=stale, expected_version=1, fields={"goals": "- Something else"}
        )
    assert exc.value.current.version == 2
    spec.refresh_from_db()
    assert spec.goals == "- Faster"  # nothing overwritten
    assert list(spec.versions.order_by("number").values_list("number", flat=True)) == [1, 2]
    assert verbs_of(spec) == ["spec.created", "spec.updated"]


def test_a_save_that_changes_nothing_writes_nothing(spec, pm):
    same = services.update_spec(
        pm, spec=spec, expected_version=1, fields={"problem": "Shoppers retype cards."}
    )
    assert same.version == 1
    assert spec.versions.count() == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"problem": "x" * 20_001}, "problem"),
        ({"goals": "a\x00b"}, "goals"),
        ({"owner": "me"}, "owner"),
        ({"requirements": 42}, "requirements"),
    ],
)
def test_bad_sections_are_field_errors(spec, pm, fields, field):
    with pytest.raises(ValidationError) as exc:
        services.update_spec(pm, spec=spec, expected_version=1, fields=fields)
    assert field in exc.value.message_dict
    spec.refresh_from_db()
    assert spec.version == 1


def test_viewers_and_strangers_cannot_write(spec, item, viewer, stranger):
    for user in (viewer, stranger):
        with pytest.raises(PermissionDenied):
            services.update_spec(user, spec=spec, expected_version=1, fields={"goals": "x"})
        with pytest.raises(PermissionDenied):
            services.request_review(user, spec=spec, reviewers=[user])


def test_review_flow_states(spec, pm, teammate, admin_member):
    services.request_review(pm, spec=spec, reviewers=[teammate, admin_member])
    spec.refresh_from_db()
    assert spec.state == SpecState.IN_REVIEW
    services.decide_review(teammate, spec=spec, verdict=Verdict.APPROVED, comment="Good")
    spec.refresh_from_db()
    assert spec.state == SpecState.IN_REVIEW  # one of two approved
    services.decide_review(
        admin_member, spec=spec, verdict=Verdict.CHANGES_REQUESTED, comment="Add metrics"
    )
    spec.refresh_from_db()
    assert spec.state == SpecState.CHANGES_REQUESTED
    services.decide_review(admin_member, spec=spec, verdict=Verdict.APPROVED, comment="")
    spec.refresh_from_db()
    assert spec.state == SpecState.APPROVED
    assert verbs_of(spec) == [
        "spec.created",
        "spec.review_requested",
        "spec.approved",
        "spec.changes_requested",
        "spec.approved",
    ]


def test_an_approval_goes_stale_when_the_spec_changes_after_it(spec, pm, teammate):
    services.request_review(pm, spec=spec, reviewers=[teammate])
    services.decide_review(teammate, spec=spec, verdict=Verdict.APPROVED)
    spec.refresh_from_db()
    assert spec.state == SpecState.APPROVED
    spec = services.update_spec(pm, spec=spec, expected_version=1, fields={"goals": "- More"})
    spec.refresh_from_db()
    assert spec.state == SpecState.IN_REVIEW
    [review] = reads.reviews_of(spec)
    assert review.stale and review.spec_version == 1
    services.decide_review(teammate, spec=spec, verdict=Verdict.APPROVED, expected_version=2)
    spec.refresh_from_db()
    assert spec.state == SpecState.APPROVED
    assert not reads.reviews_of(spec)[0].stale


def test_a_verdict_on_a_version_that_is_no_longer_current_is_refused(spec, pm, teammate):
    services.request_review(pm, spec=spec, reviewers=[teammate])
    services.update_spec(pm, spec=spec, expected_version=1, fields={"goals": "- More"})
    with pytest.raises(VersionConflict):
        services.decide_review(teammate, spec=spec, verdict=Verdict.APPROVED, expected_version=1)


def test_only_named_reviewers_decide_and_changes_need_a_comment(spec, pm, teammate, admin_member):
    services.request_review(pm, spec=spec, reviewers=[teammate])
    with pytest.raises(PermissionDenied):
        services.decide_review(admin_member, spec=spec, verdict=Verdict.APPROVED)
    with pytest.raises(ValidationError) as exc:
        services.decide_review(teammate, spec=spec, verdict=Verdict.CHANGES_REQUESTED, comment="")
    assert "comment" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.decide_review(teammate, spec=spec, verdict="maybe")


def test_reviewers_must_be_editors_of_the_workspace(spec, pm, viewer, stranger):
    with pytest.raises(ValidationError, match="Viewers cannot review"):
        services.request_review(pm, spec=spec, reviewers=[viewer])
    with pytest.raises(ValidationError, match="members of this workspace"):
        services.request_review(pm, spec=spec, reviewers=[stranger])
    with pytest.raises(ValidationError):
        services.request_review(pm, spec=spec, reviewers=[])


def test_asking_again_clears_the_earlier_verdict(spec, pm, teammate):
    services.request_review(pm, spec=spec, reviewers=[teammate])
    services.decide_review(teammate, spec=spec, verdict=Verdict.CHANGES_REQUESTED, comment="No")
    services.request_review(pm, spec=spec, reviewers=[teammate])
    spec.refresh_from_db()
    assert spec.state == SpecState.IN_REVIEW
    assert spec.reviews.get().verdict == Verdict.PENDING


def test_diff_marks_added_and_removed_lines_per_section():
    diff = reads.diff_sections(
        {"requirements": "1. Save cards\n2. Recognise devices", "goals": "same"},
        {
            "requirements": "1. Save cards\n2. Recognise devices by cookie\n3. Email",
            "goals": "same",
        },
    )
    by_name = {s.name: s for s in diff}
    assert not by_name["goals"].changed
    lines = [(line.op, line.text) for line in by_name["requirements"].lines]
    assert lines == [
        ("same", "1. Save cards"),
        ("removed", "2. Recognise devices"),
        ("added", "2. Recognise devices by cookie"),
        ("added", "3. Email"),
    ]
    assert [s.name for s in diff] == [
        "problem",
        "goals",
        "non_goals",
        "requirements",
        "acceptance_criteria",
        "open_questions",
    ]


def test_markdown_export_has_every_section_objectives_and_reviews(spec, pm, teammate, objective):
    services.request_review(pm, spec=spec, reviewers=[teammate])
    services.decide_review(teammate, spec=spec, verdict=Verdict.APPROVED, comment="Ship it")
    spec.refresh_from_db()
    text = reads.as_markdown(spec, objectives=[objective], reviews=reads.reviews_of(spec))
    assert text.startswith(f"# {spec.item.key}: One-click checkout\n")
    for heading in (
        "## Objectives served",
        "## Problem",
        "## Goals",
        "## Non-goals",
        "## Requirements",
        "## Acceptance criteria",
        "## Open questions",
        "## Reviews",
    ):
        assert f"\n{heading}\n" in text
    assert "- Grow conversion" in text
    assert "Approved on version 1 — Ship it" in text
    assert "_Not written yet._" in text  # non-goals left empty


def test_a_rolled_back_write_leaves_no_event_and_no_version(spec, pm):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        services.update_spec(pm, spec=spec, expected_version=1, fields={"goals": "- Gone"})
        raise RuntimeError
    assert verbs_of(spec) == ["spec.created"]
    assert spec.versions.count() == 1


def test_a_reviewer_demoted_to_viewer_cannot_decide(spec, pm, teammate):
    from pmhub.accounts.models import Membership, Role

    services.request_review(pm, spec=spec, reviewers=[teammate])
    Membership.objects.filter(user=teammate).update(role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.decide_review(teammate, spec=spec, verdict=Verdict.APPROVED)
