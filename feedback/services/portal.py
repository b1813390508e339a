"""The public ideas portal: its settings (which also weigh demand), the
ideas the PM publishes, and what visitors do without an account — submit
feedback, vote (counted once the emailed link is followed) and unsubscribe.
Anonymous writes are rate-limited per address."""

import logging

from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from backlog.models import Item
from pmhub import activity
from pmhub.accounts.services import require_editor
from pmhub.errors import DomainError
from pmhub.versioning import save_versioned
from products.models import Product

from ..models import (
    Feedback,
    Insight,
    PortalSettings,
    PublicIdea,
    Segment,
    Source,
    Subscription,
    Vote,
)
from ..reads import portal_settings
from .customers import clean_email
from .demand import mark_demand_dirty
from .intake import create_feedback

log = logging.getLogger(__name__)

PORTAL_SUBMIT_LIMIT = (5, 600)  # submissions per IP and product, per seconds
PORTAL_VOTE_LIMIT = (30, 600)
VOTE_LINK_MAX_AGE = 7 * 24 * 3600


class RateLimited(DomainError):
    """Too many requests from this address; try again later."""

    status_code = 429

    def __init__(self, message: str = "", *, retry_after: int = 60):
        super().__init__(message or "Too many submissions; please try again later.")
        self.retry_after = retry_after


def _settings_for_write(product) -> PortalSettings:
    """The product's settings row, stored first if it has none yet."""
    row = PortalSettings.objects.filter(product=product).first()
    if row is not None:
        return row
    try:
        with transaction.atomic():
            return PortalSettings.objects.create(product=product)
    except IntegrityError:
        return PortalSettings.objects.get(product=product)


@transaction.atomic
def update_portal_settings(actor, *, product, expected_version: int | None, fields: dict):
    require_editor(actor, product.workspace)
    unknown = set(fields) - {"enabled", "title", "intro", "half_life_days", "segment_weights"}
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "Unknown setting."))
    row = _settings_for_write(product)
    if "segment_weights" in fields:
        weights = fields["segment_weights"] or {}
        if not isinstance(weights, dict) or set(weights) - set(Segment.values):
            raise ValidationError({"segment_weights": "Weights are keyed by segment."})
        try:
            weights = {k: float(v) for k, v in weights.items()}
        except (TypeError, ValueError):
            raise ValidationError({"segment_weights": "Weights must be numbers."}) from None
        if any(not (0 <= v <= 100) for v in weights.values()):
            raise ValidationError({"segment_weights": "Weights must be between 0 and 100."})
        fields["segment_weights"] = weights
    if "half_life_days" in fields:
        try:
            fields["half_life_days"] = int(fields["half_life_days"])
        except (TypeError, ValueError):
            raise ValidationError({"half_life_days": "A whole number of days."}) from None
        if not 1 <= fields["half_life_days"] <= 3650:
            raise ValidationError({"half_life_days": "Between 1 and 3650 days."})
    before = (row.half_life_days, row.weights())
    old_values = activity.values_of(row, fields)
    saved = save_versioned(row, expected_version=expected_version, fields=fields)
    activity.record(
        product.workspace_id,
        "portal.updated",
        saved,
        changes=activity.diff(old_values, activity.values_of(saved, fields)),
        object_title=product.name,
        product=product,
        actor=actor,
    )
    if (saved.half_life_days, saved.weights()) != before:
        mark_demand_dirty(
            Insight.objects.filter(item__product=product).values_list("item_id", flat=True)
        )
    return saved


@transaction.atomic
def publish_idea(
    actor, *, item: Item, public_title: str, public_description: str = ""
) -> PublicIdea:
    """Show an item on the product's portal (or change what it shows)."""
    require_editor(actor, item.product.workspace)
    public_title = (public_title or "").strip()[:200]
    if not public_title:
        raise ValidationError({"public_title": "Give the idea a public title."})
    idea, created = PublicIdea.objects.get_or_create(
        item=item,
        defaults={
            "product_id": item.product_id,
            "public_title": public_title,
            "public_description": (public_description or "").strip(),
        },
    )
    if not created:
        idea = save_versioned(
            idea,
            expected_version=None,
            fields={
                "public_title": public_title,
                "public_description": (public_description or "").strip(),
            },
        )
    _record_idea(actor, "idea.published" if created else "idea.updated", idea, item)
    return idea


def _record_idea(actor, verb: str, idea: PublicIdea, item: Item) -> None:
    activity.record(
        item.product.workspace_id,
        verb,
        idea,
        object_key=item.key,
        object_title=idea.public_title,
        product=item.product_id,
        parent=item,
        actor=actor,
    )


@transaction.atomic
def unpublish_idea(actor, *, idea: PublicIdea) -> None:
    require_editor(actor, idea.product.workspace)
    _record_idea(actor, "idea.unpublished", idea, idea.item)
    idea.delete()


def _rate_limit(scope: str, key: str, limit: tuple[int, int]) -> None:
    """At most ``limit[0]`` hits per ``limit[1]`` seconds; RateLimited beyond."""
    count, window = limit
    cache_key = f"feedback-rl:{scope}:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return
    try:
        hits = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return
    if hits > count:
        raise RateLimited(retry_after=window)


def submit_portal_feedback(*, product, text: str, email: str, name: str = "", ip: str) -> Feedback:
    """Feedback from the public portal form (no account). Rate-limited per
    address: beyond the limit RateLimited (429) and nothing is created."""
    settings_row = portal_settings(product)
    if not settings_row.enabled:
        raise PermissionDenied("The portal is off.")
    errors = {}
    if not (text or "").strip():
        errors["text"] = "Tell us what you need."
    try:
        email = clean_email(email)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if not email and "email" not in errors:
        errors["email"] = "We need your email to tell you about progress."
    if errors:
        raise ValidationError(errors)
    _rate_limit("submit", f"{product.pk}:{ip}", PORTAL_SUBMIT_LIMIT)
    with activity.acting_as("visitor", label=email):
        return create_feedback(
            None,
            product=product,
            text=text,
            source=Source.PORTAL,
            email=email,
            name=(name or "")[:200],
        )


def cast_vote(*, idea: PublicIdea, email: str = "", user=None, ip: str = "") -> Vote:
    """A vote: counted at once for a logged-in account, else after the
    emailed link is followed. One vote per idea and email (a second attempt
    returns the first vote and counts nothing)."""
    if not portal_settings(idea.product).enabled:
        raise PermissionDenied("The portal is off.")
    if user is not None and user.is_authenticated:
        email = (user.email or f"user-{user.pk}@accounts.invalid").lower()
    else:
        user = None
        email = clean_email(email)
        if not email:
            raise ValidationError({"email": "Enter your email to vote."})
        _rate_limit("vote", f"{idea.product_id}:{ip}", PORTAL_VOTE_LIMIT)
    existing = Vote.objects.filter(idea=idea).filter(
        Q(email__iexact=email) | Q(user=user) if user else Q(email__iexact=email)
    )
    vote = existing.first()
    if vote is not None:
        vote._created = False
        if vote.verified_at is None and user is not None:
            Vote.objects.filter(pk=vote.pk).update(verified_at=timezone.now(), user=user)
            vote.refresh_from_db()
        return vote
    try:
        with transaction.atomic():
            vote = Vote.objects.create(
                idea=idea,
                email=email,
                user=user,
                verified_at=timezone.now() if user is not None else None,
            )
    except IntegrityError:  # a concurrent double click
        vote = existing.first()
        vote._created = False
        return vote
    vote._created = True
    with activity.acting_as(user or "visitor", label="" if user else email):
        activity.record(
            idea.product.workspace_id,
            "idea.voted",
            vote,
            object_key=idea.item.key,
            object_title=idea.public_title,
            product=idea.product_id,
            parent=idea.item,
        )
    if user is None:
        transaction.on_commit(lambda: _enqueue_verification(vote.pk))
    return vote


def _enqueue_verification(vote_id: int) -> None:
    from ..tasks import send_vote_verification

    try:
        send_vote_verification.delay(vote_id)
    except Exception:
        log.warning("Could not enqueue vote verification %s", vote_id, exc_info=True)


def vote_token(vote: Vote) -> str:
    return signing.dumps({"v": vote.pk}, salt="feedback.vote")


def confirm_vote(token: str) -> Vote:
    """Count a vote whose emailed link was followed (idempotent)."""
    try:
        data = signing.loads(token, salt="feedback.vote", max_age=VOTE_LINK_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError({"token": "This link is invalid or has expired."}) from None
    vote = Vote.objects.select_related("idea__product__workspace").filter(pk=data.get("v")).first()
    if vote is None:
        raise ValidationError({"token": "This vote no longer exists."})
    Vote.objects.filter(pk=vote.pk, verified_at__isnull=True).update(verified_at=timezone.now())
    vote.refresh_from_db()
    return vote


def unsubscribe_token(product_id: int, email: str) -> str:
    return signing.dumps({"p": product_id, "e": email.lower()}, salt="feedback.unsubscribe")


def unsubscribe(token: str) -> Subscription:
    """Stop a product's portal emails to an address (from the link in every email)."""
    try:
        data = signing.loads(token, salt="feedback.unsubscribe")
    except signing.BadSignature:
        raise ValidationError({"token": "This link is invalid."}) from None
    product = Product.objects.filter(pk=data.get("p")).first()
    if product is None:
        raise ValidationError({"token": "This product no longer exists."})
    sub = Subscription.objects.filter(product=product, email__iexact=data["e"]).first()
    if sub is None:
        sub = Subscription.objects.create(
            product=product, email=data["e"], unsubscribed_at=timezone.now()
        )
    elif sub.unsubscribed_at is None:
        Subscription.objects.filter(pk=sub.pk).update(unsubscribed_at=timezone.now())
        sub.refresh_from_db()
    return sub
