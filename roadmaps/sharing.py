"""The shared page's hot path: find a live link by its token with what its
ETag is made of, and count the view — for a conditional GET that costs
about as much as a bare Django view.

The probe (one raw SQL statement) is cached for PROBE_TTL seconds under
the token's hash. Whatever must show at once drops it: every roadmap edit
(``forget_roadmap``, called by services.touch_roadmap) and revocation
(``forget_link``); an expiry is checked against the cached time. Backlog
items, objectives and visions are edited in other apps: their changes reach
the ETag within PROBE_TTL (a deleted item, through the entry count: its
entry goes with it and no remaining row's time changes; a deleted
objective, through the objective count).

Views are counted in memory and written to the row (one UPDATE ... SET
views = views + n) when the probe is read from the database, or when the
process last wrote them more than PROBE_TTL seconds ago (the write is
``services.record_share_views``): at most about once a minute per link and
process, never a write per request. Views a process
counted in its last minute are lost if it stops; the links page adds the
current process's unwritten views (``pending_views``)."""

import datetime as dt
import functools
import threading
import time
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from backlog.models import Item
from pmhub.accounts.models import hash_token
from products.models import Objective, Vision

from .models import Entry, Roadmap, ShareLink

PROBE_TTL = 60


class Probe(NamedTuple):
    link_id: int
    link_version: int
    password: str
    roadmap_id: int
    roadmap_version: int
    revision: int
    product_id: int | None
    items_at: object
    strategy_at: object
    vision_at: object
    expires_at: object
    entries: int = 0  # the roadmap's entry count (a default: probes cached before it)
    objectives: int = 0  # its products' objective count


def _probe_key(token_hash: str) -> str:
    return f"roadmaps:share:{token_hash}"


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _statements(vendor: str) -> tuple[str, str]:
    link, roadmap = _table(ShareLink), _table(Roadmap)
    item, objective, vision = _table(Item), _table(Objective), _table(Vision)
    entry = _table(Entry)
    products = _table(Roadmap.products.through)
    # The newest change among a product's items, objectives and vision.
    latest = {
        "items": f"SELECT i.updated_at FROM {item} i WHERE i.product_id = {{p}} "
        "ORDER BY i.updated_at DESC LIMIT 1",
        "strategy": f"SELECT o.updated_at FROM {objective} o WHERE o.product_id = {{p}} "
        "ORDER BY o.updated_at DESC LIMIT 1",
        "vision": f"SELECT v.updated_at FROM {vision} v WHERE v.product_id = {{p}}",
        "objectives": f"SELECT COUNT(*) FROM {objective} o WHERE o.product_id = {{p}}",
    }
    select = f"""
        SELECT l.id, l.version, l.password, l.roadmap_id, r.version, r.revision, r.product_id,
               ({latest["items"].format(p="r.product_id")}),
               ({latest["strategy"].format(p="r.product_id")}),
               ({latest["vision"].format(p="r.product_id")}),
               l.expires_at,
               (SELECT COUNT(*) FROM {entry} e WHERE e.roadmap_id = r.id),
               ({latest["objectives"].format(p="r.product_id")})
          FROM {link} l JOIN {roadmap} r ON r.id = l.roadmap_id
         WHERE l.token_hash = %s AND l.revoked_at IS NULL
    """
    portfolio = f"""
        SELECT MAX(({latest["items"].format(p="p.product_id")})),
               MAX(({latest["strategy"].format(p="p.product_id")})),
               MAX(({latest["vision"].format(p="p.product_id")})),
               SUM(({latest["objectives"].format(p="p.product_id")}))
          FROM {products} p WHERE p.roadmap_id = %s
    """
    return select, portfolio


def _load(token_hash: str) -> Probe | None:
    select, portfolio = _statements(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(select, [token_hash])
        row = cursor.fetchone()
        if row is None:
            return None
        found = Probe(*row)
        if found.product_id is None:
            cursor.execute(portfolio, [found.roadmap_id])
            latest = dict(
                zip(
                    ("items_at", "strategy_at", "vision_at", "objectives"),
                    cursor.fetchone(),
                    strict=True,
                )
            )
            found = found._replace(**latest)
    expires = found.expires_at
    if isinstance(expires, str):  # SQLite hands datetimes over as text
        expires = parse_datetime(expires)
    if expires is not None and timezone.is_naive(expires):
        expires = timezone.make_aware(expires, dt.UTC)  # stored in UTC
    return found._replace(expires_at=expires)


def probe(token: str, *, count: bool = True) -> Probe | None:
    """The live link for ``token`` and its ETag inputs, counting the view
    (unless ``count`` is off: the live stream's checks are not views); None
    for an unknown, revoked or expired token."""
    if not token or len(token) > 100:
        return None
    token_hash = hash_token(token)
    key = _probe_key(token_hash)
    found = cache.get(key)
    if found is None:
        found = _load(token_hash)
        if found is None:
            return None
        cache.set(key, found, PROBE_TTL)
        if count:
            count_view(found.link_id, token_hash, write=True)
    elif count:
        count_view(found.link_id, token_hash)
    if found.expires_at is not None and found.expires_at <= timezone.now():
        return None
    return found


# Views not yet written, per token hash, in this process: {hash: [count, last write]}.
_views: dict[str, list] = {}
_views_lock = threading.Lock()


def count_view(link_id: int, token_hash: str, *, write: bool = False) -> None:
    """Count a view in memory; write the views counted so far (one UPDATE
    ... SET views = views + n) when ``write`` or when this process last
    wrote them more than PROBE_TTL seconds ago."""
    now = time.monotonic()
    with _views_lock:
        pending = _views.setdefault(token_hash, [0, 0.0])
        pending[0] += 1
        if not write and now - pending[1] < PROBE_TTL:
            return
        count, pending[0], pending[1] = pending[0], 0, now
    from .services import record_share_views  # the services import this module

    record_share_views(link_id=link_id, views=count)


def pending_views(links) -> dict[int, int]:
    """Views this process counted and has not written yet, per link id."""
    with _views_lock:
        return {
            link.pk: _views[link.token_hash][0]
            for link in links
            if link.token_hash in _views and _views[link.token_hash][0]
        }


def with_pending_views(links: list) -> list:
    """``links`` with ``views`` including this process's unwritten views, for
    display (the HTML list and the API show the same count; never saved)."""
    pending = pending_views(links)
    for link in links:
        link.views += pending.get(link.pk, 0)
    return links


def forget_link(token_hash: str) -> None:
    cache.delete(_probe_key(token_hash))


def link_deleted(sender, instance: ShareLink, **kwargs) -> None:
    """post_delete of a ShareLink, however it goes (its roadmap, product or
    workspace deleted): drop its cached probe now and again after the commit,
    or a conditional GET would still get 304 for up to PROBE_TTL."""
    from django.db import transaction

    token_hash = instance.token_hash
    forget_link(token_hash)
    transaction.on_commit(lambda: forget_link(token_hash))


def forget_roadmap(roadmap_id: int) -> None:
    """Drop the cached probes of a roadmap's links (its content changed)."""
    hashes = ShareLink.objects.filter(roadmap_id=roadmap_id, revoked_at__isnull=True).values_list(
        "token_hash", flat=True
    )
    cache.delete_many([_probe_key(h) for h in hashes])
