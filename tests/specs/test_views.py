"""The spec pages: who sees and does what (table-driven), the version
conflict panel, the review forms, the diff page, the Markdown export and the
item page's panel."""

import pytest
from django.urls import reverse

from specs import services
from specs.models import Spec, SpecState, Verdict


def url(item, name="spec"):
    return reverse(f"specs:{name}", args=["acme", item.product.key, item.number])


SECTIONS = {
    "problem": "Problem <script>alert(1)</script>",
    "goals": "- **Fast**",
    "non_goals": "",
    "requirements": "",
    "acceptance_criteria": "",
    "open_questions": "",
}


@pytest.mark.parametrize(
    ("who", "get", "post"),
    [("pm", 200, 302), ("teammate", 200, 302), ("viewer", 200, 403), ("stranger", 404, 404)],
)
def test_who_reads_and_who_writes_a_spec(request, as_user, item, who, get, post):
    client = as_user(request.getfixturevalue(who))
    assert client.get(url(item)).status_code == get
    assert client.post(url(item), {**SECTIONS, "version": ""}).status_code == post
    assert Spec.objects.filter(item=item).exists() == (post == 302)


@pytest.mark.parametrize("name", ["spec-versions", "spec-export", "spec-review", "spec-verdict"])
def test_a_stranger_gets_404_everywhere(as_user, spec, stranger, name):
    client = as_user(stranger)
    assert client.get(url(spec.item, name)).status_code in (404, 405)
    assert client.post(url(spec.item, name), {}).status_code in (404, 405)


def test_the_spec_page_renders_markdown_sanitized(as_user, pm, item):
    client = as_user(pm)
    client.post(url(item), {**SECTIONS, "version": ""})
    html = client.get(url(item)).content.decode()
    assert "<strong>Fast</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "Grow conversion" in html  # the objective the item serves


def test_a_stale_save_shows_the_conflict_and_keeps_the_text(as_user, pm, teammate, spec):
    services.update_spec(teammate, spec=spec, expected_version=1, fields={"goals": "- Theirs"})
    response = as_user(pm).post(url(spec.item), {**SECTIONS, "goals": "- Mine", "version": "1"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this spec first" in html
    assert "- Mine" in html and "Theirs" in html
    spec.refresh_from_db()
    assert spec.goals == "- Theirs" and spec.version == 2


def test_too_long_section_is_a_form_error(as_user, pm, spec):
    response = as_user(pm).post(
        url(spec.item), {**SECTIONS, "problem": "x" * 20_001, "version": "1"}
    )
    assert response.status_code == 400
    assert "at most 20000 characters" in response.content.decode().replace(",", "")
    spec.refresh_from_db()
    assert spec.version == 1


def test_review_request_and_verdict_through_the_pages(as_user, pm, teammate, viewer, spec):
    response = as_user(pm).post(url(spec.item, "spec-review"), {"reviewers": [teammate.pk]})
    assert response.status_code == 302
    # A viewer is not a reviewer (never named) and cannot decide.
    assert as_user(viewer).post(url(spec.item, "spec-verdict"), {}).status_code == 403
    client = as_user(teammate)
    assert "Your verdict on version 1" in client.get(url(spec.item)).content.decode()
    response = client.post(
        url(spec.item, "spec-verdict"),
        {"verdict": Verdict.CHANGES_REQUESTED, "comment": "", "version": "1"},
    )
    assert response.status_code == 400 and "Say what should change" in response.content.decode()
    response = client.post(
        url(spec.item, "spec-verdict"),
        {"verdict": Verdict.APPROVED, "comment": "<b>ok</b>", "version": "1"},
    )
    assert response.status_code == 302
    spec.refresh_from_db()
    assert spec.state == SpecState.APPROVED
    html = client.get(url(spec.item)).content.decode()
    assert "&lt;b&gt;ok&lt;/b&gt;" in html


def test_a_verdict_on_an_old_version_is_a_conflict(as_user, pm, teammate, spec):
    services.request_review(pm, spec=spec, reviewers=[teammate])
    services.update_spec(pm, spec=spec, expected_version=1, fields={"goals": "- New"})
    response = as_user(teammate).post(
        url(spec.item, "spec-verdict"), {"verdict": Verdict.APPROVED, "version": "1"}
    )
    assert response.status_code == 409
    assert "The spec changed since you opened it" in response.content.decode()


def test_versions_page_shows_a_readable_diff(as_user, pm, spec):
    services.update_spec(
        pm,
        spec=spec,
        expected_version=1,
        fields={"requirements": "1. Save cards\n2. <i>Tokens</i>"},
    )
    response = as_user(pm).get(url(spec.item, "spec-versions"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Changes from version 1 to 2" in html
    assert "<del>2. Recognise devices</del>" in html
    assert "<ins>2. &lt;i&gt;Tokens&lt;/i&gt;</ins>" in html
    bad = as_user(pm).get(url(spec.item, "spec-versions") + "?from=1&to=9")
    assert bad.status_code == 400


def test_markdown_export_downloads(as_user, viewer, spec):
    response = as_user(viewer).get(url(spec.item, "spec-export"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    assert f'filename="{spec.item.key}-spec.md"' in response["Content-Disposition"]
    assert b"## Acceptance criteria" in response.content


def test_item_page_shows_the_spec_state(as_user, pm, teammate, spec, item):
    page = reverse("backlog:item", args=["acme", item.product.key, item.number])
    assert "Draft" in as_user(pm).get(page).content.decode()
    services.request_review(pm, spec=spec, reviewers=[teammate])
    html = as_user(pm).get(page).content.decode()
    assert 'id="spec-panel"' in html and "In review" in html


def test_item_page_without_spec_offers_to_write_one(as_user, pm, viewer, item):
    page = reverse("backlog:item", args=["acme", item.product.key, item.number])
    assert "Write the spec" in as_user(pm).get(page).content.decode()
    assert "Write the spec" not in as_user(viewer).get(page).content.decode()


def test_the_spec_page_reads_a_constant_number_of_queries(
    as_user, pm, spec, workspace, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from pmhub.accounts.models import Role
    from tests.factories import MembershipFactory

    client = as_user(pm)
    editors = [
        MembershipFactory(workspace=workspace, role=Role.EDITOR, user__username=f"eng{n}").user
        for n in range(6)
    ]
    services.request_review(pm, spec=spec, reviewers=editors[:1])
    with CaptureQueriesContext(connection) as small:
        assert client.get(url(spec.item)).status_code == 200
    services.request_review(pm, spec=spec, reviewers=editors)
    for n in range(3):
        services.update_spec(pm, spec=spec, expected_version=None, fields={"goals": f"- v{n}"})
        spec.refresh_from_db()
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(spec.item)).status_code == 200
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(spec.item, "spec-versions")).status_code == 200
