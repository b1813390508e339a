"""Reviews of a spec: the PM names reviewers; each approves or requests
changes with a comment, on the version they read. The spec's state follows
from its reviews (``refresh_state``): draft without reviewers; changes
requested when a current verdict asks for them; approved when every
reviewer approved the current version; in review otherwise (waiting, or an
approval gone stale because the spec changed after it)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.models import EDIT_ROLES, Membership
from pmhub.accounts.services import require_editor
from pmhub.errors import VersionConflict

from ..models import Spec, SpecReview, SpecState, Verdict

MAX_COMMENT = 5_000
MAX_REVIEWERS = 20


def compute_state(spec_version: int, reviews) -> str:
    """The state a spec at ``spec_version`` is in, given its reviews."""
    reviews = list(reviews)
    if not reviews:
        return SpecState.DRAFT
    current = [r for r in reviews if not r.is_stale(spec_version)]
    if any(r.verdict == Verdict.CHANGES_REQUESTED for r in current):
        return SpecState.CHANGES_REQUESTED
    if all(r.verdict == Verdict.APPROVED for r in current) and len(current) == len(reviews):
        return SpecState.APPROVED
    return SpecState.IN_REVIEW


def refresh_state(spec: Spec) -> Spec:
    """Store the state the spec's reviews put it in (no version bump: a
    verdict is not an edit of the spec)."""
    state = compute_state(spec.version, SpecReview.objects.filter(spec=spec))
    if state != spec.state:
        Spec.objects.filter(pk=spec.pk).update(state=state)
        spec.state = state
    return spec


def record_spec_event(actor, verb: str, spec: Spec, changes=None) -> None:
    """A spec's event, told by its item's key and title, with the item as parent."""
    item = spec.item
    activity.record(
        item.product.workspace_id,
        verb,
        spec,
        changes=changes,
        object_key=item.key,
        object_title=item.title,
        product=item.product_id,
        parent=item,
        actor=actor,
    )


@transaction.atomic
def request_review(actor, *, spec: Spec, reviewers) -> list[SpecReview]:
    """Ask named members (editors, admins or owners of the workspace) to
    review the spec. Someone already asked is asked again: their earlier
    verdict is cleared."""
    workspace = spec.item.product.workspace
    require_editor(actor, workspace)
    ids = sorted({getattr(r, "pk", r) for r in reviewers})
    if not ids:
        raise ValidationError({"reviewers": "Name at least one reviewer."})
    if len(ids) > MAX_REVIEWERS:
        raise ValidationError({"reviewers": f"At most {MAX_REVIEWERS} reviewers."})
    roles = dict(
        Membership.objects.filter(workspace=workspace, user_id__in=ids).values_list(
            "user_id", "role"
        )
    )
    if set(ids) - set(roles):
        # A stranger and a missing id read the same: nothing about them leaks.
        raise ValidationError({"reviewers": "Reviewers must be members of this workspace."})
    if any(roles[i] not in EDIT_ROLES for i in ids):
        raise ValidationError({"reviewers": "Viewers cannot review a spec; pick editors."})
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=ids)}
    now = timezone.now()
    asked = []
    for user_id in ids:
        review, created = SpecReview.objects.get_or_create(
            spec=spec,
            reviewer=users[user_id],
            defaults={"requested_by": actor, "requested_at": now},
        )
        if not created:
            SpecReview.objects.filter(pk=review.pk).update(
                verdict=Verdict.PENDING,
                comment="",
                spec_version=None,
                decided_at=None,
                requested_by=actor,
                requested_at=now,
            )
            review.refresh_from_db()
        asked.append(review)
    before = spec.state
    refresh_state(spec)
    record_spec_event(
        actor,
        "spec.review_requested",
        spec,
        changes={"reviewers": [None, ids], "state": [before, spec.state]},
    )
    return asked


@transaction.atomic
def decide_review(
    actor, *, spec: Spec, verdict: str, comment: str = "", expected_version: int | None = None
) -> SpecReview:
    """The named reviewer approves the spec or requests changes, with a
    comment (required to request changes). ``expected_version`` is the
    version the reviewer read: a verdict on a version that is no longer
    current is refused (VersionConflict), so nobody approves text they have
    not seen."""
    # A reviewer demoted to viewer since they were asked changes nothing.
    require_editor(actor, spec.item.product.workspace)
    if verdict not in (Verdict.APPROVED, Verdict.CHANGES_REQUESTED):
        raise ValidationError({"verdict": "Approve, or request changes."})
    comment = (comment or "").replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": f"The comment is too long ({MAX_COMMENT} at most)."})
    if "\x00" in comment:
        raise ValidationError({"comment": "The comment contains a NUL character."})
    if verdict == Verdict.CHANGES_REQUESTED and not comment:
        raise ValidationError({"comment": "Say what should change."})
    review = SpecReview.objects.filter(spec=spec, reviewer=actor).first()
    if review is None:
        raise PermissionDenied("You were not asked to review this spec.")
    current = Spec.objects.select_for_update().get(pk=spec.pk)
    if expected_version is not None and expected_version != current.version:
        raise VersionConflict(current=current)
    SpecReview.objects.filter(pk=review.pk).update(
        verdict=verdict, comment=comment, spec_version=current.version, decided_at=timezone.now()
    )
    review.refresh_from_db()
    spec.version = current.version
    before = spec.state
    refresh_state(spec)
    verb = "spec.approved" if verdict == Verdict.APPROVED else "spec.changes_requested"
    record_spec_event(actor, verb, spec, changes={"state": [before, spec.state]})
    return review
