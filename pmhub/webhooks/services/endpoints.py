"""Endpoints: create (the secret is returned once), change, rotate the secret
with an overlap, enable/disable, delete. Admins and owners only."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from pmhub import activity
from pmhub.accounts.services import require_admin
from pmhub.versioning import delete_versioned, save_versioned

from .. import signing
from ..event_types import is_verb
from ..models import WebhookEndpoint
from ..transport import validate_url

# Overlap periods offered when a secret is rotated: (seconds, label).
OVERLAPS = [
    (0, "None: the old secret stops signing now"),
    (3600, "1 hour"),
    (24 * 3600, "24 hours"),
    (7 * 24 * 3600, "7 days"),
]
EDITABLE = ("url", "description", "event_types")


def _clean_types(event_types) -> list[str]:
    if event_types is None:
        return []
    if isinstance(event_types, str) or not all(isinstance(t, str) for t in event_types):
        raise ValidationError({"event_types": "Give a list of event type names."})
    wrong = sorted(t for t in set(event_types) if not is_verb(t))
    if wrong:
        raise ValidationError(
            {"event_types": f"Not an event type (noun.action): {', '.join(wrong)}."}
        )
    return sorted(set(event_types))


@transaction.atomic
def create_endpoint(
    actor, *, workspace, url: str, description: str = "", event_types=None, enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its secret (shown to the person once)."""
    require_admin(actor, workspace)
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        workspace=workspace,
        url=validate_url(url),
        description=(description or "").strip(),
        event_types=_clean_types(event_types),
        secret=secret,
        enabled=enabled,
        created_by=actor if actor.is_authenticated else None,
    )
    endpoint.full_clean()
    endpoint.save()
    _record(endpoint, "created", actor)
    return endpoint, secret


def _record(endpoint, action: str, actor, changes=None) -> None:
    """Who changed which webhook goes to the audit log (never the secret)."""
    activity.record(
        endpoint.workspace_id,
        f"webhook_endpoint.{action}",
        endpoint,
        changes=changes,
        object_title=endpoint.url,
        actor=actor,
    )


@transaction.atomic
def update_endpoint(
    actor, *, endpoint: WebhookEndpoint, expected_version: int | None, fields: dict
) -> WebhookEndpoint:
    require_admin(actor, endpoint.workspace)
    fields = {k: v for k, v in fields.items() if k in (*EDITABLE, "enabled")}
    if "url" in fields:
        fields["url"] = validate_url(fields["url"])
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()
    if "event_types" in fields:
        fields["event_types"] = _clean_types(fields["event_types"])
    if "enabled" in fields:
        reason = "" if fields["enabled"] else f"Disabled by {actor}"
        fields.update(_enabled_fields(fields["enabled"], endpoint, reason))
    before = activity.values_of(endpoint, [k for k in fields if k in (*EDITABLE, "enabled")])
    endpoint = save_versioned(endpoint, expected_version=expected_version, fields=fields)
    changes = activity.diff(before, activity.values_of(endpoint, before))
    if changes:
        _record(endpoint, "updated", actor, changes)
    if fields.get("enabled"):
        from .deliveries import kick_endpoint

        kick_endpoint(endpoint.pk)
    return endpoint


def _enabled_fields(enabled: bool, endpoint: WebhookEndpoint, reason: str = "") -> dict:
    if enabled:
        return {"enabled": True, "disabled_reason": "", "disabled_at": None}
    if not endpoint.enabled:
        return {"enabled": False}
    return {"enabled": False, "disabled_reason": reason, "disabled_at": timezone.now()}


@transaction.atomic
def set_enabled(
    actor, *, endpoint: WebhookEndpoint, enabled: bool, expected_version: int | None = None
) -> WebhookEndpoint:
    """Turn deliveries on or off. Deliveries wait while an endpoint is off and
    go out once it is on again (the sweep picks them up)."""
    require_admin(actor, endpoint.workspace)
    reason = "" if enabled else f"Disabled by {actor}"
    fields = _enabled_fields(enabled, endpoint, reason)
    was = endpoint.enabled
    endpoint = save_versioned(endpoint, expected_version=expected_version, fields=fields)
    if was != enabled:
        _record(endpoint, "enabled" if enabled else "disabled", actor)
    if enabled:
        from .deliveries import kick_endpoint

        kick_endpoint(endpoint.pk)
    return endpoint


@transaction.atomic
def rotate_secret(
    actor, *, endpoint: WebhookEndpoint, overlap_seconds: int, expected_version: int | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one keeps signing (beside the new one) for
    ``overlap_seconds``, so receivers can switch without dropping a delivery."""
    require_admin(actor, endpoint.workspace)
    if overlap_seconds not in {s for s, _ in OVERLAPS}:
        choices = ", ".join(str(s) for s, _ in OVERLAPS)
        raise ValidationError({"overlap_seconds": f"Choose one of {choices} seconds."})
    secret = signing.new_secret()
    fields = {
        "secret": secret,
        "previous_secret": endpoint.secret if overlap_seconds else "",
        "previous_secret_expires_at": timezone.now() + timedelta(seconds=overlap_seconds)
        if overlap_seconds
        else None,
    }
    endpoint = save_versioned(endpoint, expected_version=expected_version, fields=fields)
    _record(endpoint, "secret_rotated", actor, {"overlap_seconds": [None, overlap_seconds]})
    return endpoint, secret


@transaction.atomic
def delete_endpoint(
    actor, *, endpoint: WebhookEndpoint, expected_version: int | None = None
) -> None:
    """Delete the endpoint and its delivery log."""
    require_admin(actor, endpoint.workspace)
    _record(endpoint, "deleted", actor)
    delete_versioned(endpoint, expected_version=expected_version)
