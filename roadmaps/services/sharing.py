"""Share links: create, revoke, rotate (the demo), check a link's password,
and write the views the shared page counted in memory.

Share links are created and revoked by admins and owners (DESIGN.md:
"admins manage … share links") — a link publishes the roadmap outside the
workspace."""

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from pmhub.accounts.models import hash_token
from pmhub.accounts.services import require_admin
from pmhub.errors import DomainError

from .. import sharing
from ..models import Commitment, DateMode, Roadmap, ShareLink
from .changes import record_event

PASSWORD_ATTEMPTS = 5  # wrong passwords per link and address …
PASSWORD_WINDOW = 15 * 60  # … within this many seconds, then 429


@transaction.atomic
def create_share_link(
    actor,
    *,
    roadmap: Roadmap,
    label: str,
    expires_at=None,
    password: str = "",
    hide_scores: bool = True,
    hide_owners: bool = True,
    hide_notes: bool = True,
    date_mode: str = DateMode.EXACT,
    exclude_tags=(),
    exclude_commitments=(),
    live: bool = False,
) -> tuple[ShareLink, str]:
    """A new link; returns it with the raw token (256 random bits), which is
    stored only as its SHA-256 and cannot be shown again."""
    require_admin(actor, roadmap.workspace)
    label = (label or "").strip() or "Shared roadmap"
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Pick a time in the future."})
    bad = [c for c in exclude_commitments if c not in Commitment.values]
    if bad:
        raise ValidationError({"exclude_commitments": f"Unknown commitment level {bad[0]!r}."})
    if date_mode not in DateMode.values:
        raise ValidationError({"date_mode": f"Unknown date mode {date_mode!r}."})
    if password and len(password) < 6:
        raise ValidationError({"password": "Use at least 6 characters, or leave it empty."})
    raw = secrets.token_urlsafe(32)
    link = ShareLink.objects.create(
        roadmap=roadmap,
        label=label[:80],
        token_hash=hash_token(raw),
        password=make_password(password) if password else "",
        expires_at=expires_at,
        hide_scores=hide_scores,
        hide_owners=hide_owners,
        hide_notes=hide_notes,
        date_mode=date_mode,
        exclude_tags=sorted({t.strip().lower() for t in exclude_tags if t.strip()}),
        exclude_commitments=sorted(set(exclude_commitments)),
        live=bool(live),
        created_by=actor,
    )
    record_event(actor, "share_link.created", link, roadmap)
    return link, raw


@transaction.atomic
def revoke_share_link(actor, *, link: ShareLink) -> ShareLink:
    """Revoke at once: the next request with the token is a 404."""
    require_admin(actor, link.roadmap.workspace)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
            revoked_at=link.revoked_at, version=F("version") + 1, updated_at=link.revoked_at
        )
        record_event(actor, "share_link.revoked", link, link.roadmap)
        sharing.forget_link(link.token_hash)
        # Also after commit: a probe read meanwhile must not outlive the revocation.
        transaction.on_commit(lambda: sharing.forget_link(link.token_hash))
    return link


def touch_share_link(link: ShareLink) -> None:
    """A downstream app changed what the link's pages show (questions turned
    on or off, ``roadmaps.shared_blocks``): bump the link's version so the
    shared page's ETag changes, and drop the cached probe. In the caller's
    transaction; the caller checked the permission and records its event."""
    ShareLink.objects.filter(pk=link.pk).update(version=F("version") + 1, updated_at=timezone.now())
    sharing.forget_link(link.token_hash)
    transaction.on_commit(lambda: sharing.forget_link(link.token_hash))


def rotate_demo_link(actor, *, roadmap: Roadmap, label: str, **options) -> tuple[ShareLink, str]:
    """Revoke earlier live links with this label and create a fresh one (the
    token is stored hashed: the only way to print a working link again)."""
    for link in ShareLink.objects.live().filter(roadmap=roadmap, label=label):
        revoke_share_link(actor, link=link)
    return create_share_link(actor, roadmap=roadmap, label=label, **options)


class TooManyAttempts(DomainError):
    """Too many wrong passwords; try again later."""

    status_code = 429


def check_share_password(link: ShareLink, password: str, *, client: str) -> bool:
    """True if ``password`` opens the link. Wrong attempts are counted per
    link and client address in the cache; past PASSWORD_ATTEMPTS within
    PASSWORD_WINDOW every attempt (right or wrong) raises TooManyAttempts."""
    key = f"roadmaps:share-pw:{link.token_hash}:{client}"
    if (cache.get(key) or 0) >= PASSWORD_ATTEMPTS:
        raise TooManyAttempts()
    if check_password(password or "", link.password):
        return True
    try:
        cache.add(key, 0, PASSWORD_WINDOW)
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, PASSWORD_WINDOW)
    return False


def record_share_views(*, link_id: int, views: int) -> None:
    """Add ``views`` to a share link's count and stamp ``last_viewed_at``:
    the views ``roadmaps.sharing.count_view`` counted in memory, written
    as one ``UPDATE ... SET views = views + n`` (at most about once a minute
    per link and process). Anonymous visits: there is no actor, and a
    single statement needs no transaction of its own."""
    ShareLink.objects.filter(pk=link_id).update(
        views=F("views") + views, last_viewed_at=timezone.now()
    )
