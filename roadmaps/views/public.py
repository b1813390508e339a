"""The shared roadmap: ``/s/<token>/`` for people without an account.

Read-only (GET and HEAD only; the password form posts to its own URL),
nothing from any other roadmap (every object is looked up through the
link's roadmap), no CSRF token, no edit URL, and no field the link hides is
ever written into the response. A revoked or expired link is a 404 on the
very next request: nothing is cached outside the browser, and the browser
revalidates every time (``Cache-Control: no-cache`` with an ETag)."""

import datetime as dt
import hashlib

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core import signing
from django.core.handlers.asgi import ASGIRequest
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt

from pmhub.accounts.models import hash_token
from pmhub.clientip import client_ip
from pmhub.live import streams as live_streams

from .. import reads, services, shared_blocks, sharing
from ..dates import dates_text, format_date
from ..models import Entry, Layout, ShareLink
from ..rendering import CardOptions, cards_html

COOKIE = "pmhub_shared"
DEFAULT_SINCE_DAYS = 30
SAFE = ("GET", "HEAD")


def _share_headers(response):
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, no-cache"
    response["X-Frame-Options"] = "DENY"
    return response


def resolve(token: str) -> ShareLink:
    """The live link for ``token`` with its roadmap; Http404 for anything else."""
    if not token or len(token) > 100:
        raise Http404("No such roadmap.")
    link = (
        ShareLink.objects.live()
        .filter(token_hash=hash_token(token))
        .select_related("roadmap", "roadmap__product", "roadmap__workspace")
        .first()
    )
    if link is None:
        raise Http404("No such roadmap.")
    return link


def _unlock_claim(link_id: int, password: str) -> dict:
    # Changing the password invalidates earlier unlocks.
    return {"l": link_id, "p": hashlib.sha256(password.encode()).hexdigest()[:16]}


def _unlock_value(link: ShareLink) -> str:
    return signing.dumps(_unlock_claim(link.pk, link.password), salt="roadmaps.share-unlock")


def _unlocked(request, link) -> bool:
    """``link`` is a ShareLink or a Probe."""
    link_id = link.pk if isinstance(link, ShareLink) else link.link_id
    if not link.password:
        return True
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return False
    try:
        data = signing.loads(raw, salt="roadmaps.share-unlock", max_age=12 * 3600)
    except signing.BadSignature:
        return False
    return data == _unlock_claim(link_id, link.password)


def _since(request, today: dt.date) -> dt.date:
    # Most requests (every conditional GET of a feed reader or a reload) have
    # no query string: skip building request.GET on that hot path.
    value = request.GET.get("since") if request.META.get("QUERY_STRING") else None
    if value:
        try:
            return max(dt.date.fromisoformat(value), dt.date(2000, 1, 1))
        except ValueError:
            pass
    return today - dt.timedelta(days=DEFAULT_SINCE_DAYS)


def _etag(found: sharing.Probe, *parts) -> str:
    """Changes with the link, the roadmap (every edit bumps its revision and
    drops the cached probe), any item, objective or vision of its products
    (within sharing.PROBE_TTL), and ``parts`` (the day, the query)."""
    key = "|".join(
        str(p)
        for p in (
            found.link_id,
            found.link_version,
            found.roadmap_version,
            found.revision,
            found.items_at,
            found.strategy_at,
            found.vision_at,
            found.entries,
            found.objectives,
            *parts,
        )
    )
    return '"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


def _not_modified(request, etag: str) -> bool:
    header = request.META.get("HTTP_IF_NONE_MATCH", "")  # not request.headers: no dict built
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


def _password_page(request, token, link, *, error="", status=200):
    response = render(
        request,
        "roadmaps/shared_password.html",
        {"link_name": link.roadmap.name, "token": token, "error": error},
        status=status,
    )
    return _share_headers(response)


def card_options(link: ShareLink, token: str, *, dates: bool) -> CardOptions:
    """Cards as a link's audience sees them: titles open the shared entry
    page; no data attributes, no dependency warnings, hidden fields never
    written."""
    return CardOptions(
        detail_url=reverse("roadmaps:shared-entry", args=[token, 0]),
        show_scores=not link.hide_scores,
        show_owners=not link.hide_owners,
        show_notes=not link.hide_notes,
        show_dates=dates,
        show_warnings=False,
    )


def shared_roadmap(request, token):
    if request.method not in SAFE:
        return _share_headers(HttpResponseNotAllowed(SAFE))
    found = sharing.probe(token)
    if found is None:
        raise Http404("No such roadmap.")
    today = timezone.localdate()
    since = _since(request, today)
    etag = _etag(found, today, since)
    if _unlocked(request, found) and _not_modified(request, etag):
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return _share_headers(response)
    link = resolve(token)
    if not _unlocked(request, link):
        return _password_page(request, token, link)
    roadmap = reads.audience_roadmap(link)
    board = reads.load_board(roadmap, link=link)
    timeline = roadmap.layout == Layout.TIMELINE
    opts = card_options(link, token, dates=timeline)
    for lane in board.lanes:
        for column in lane.columns:
            column.html = mark_safe(cards_html(column.cards, opts, bar=timeline))
    changes = reads.changes_since(
        roadmap,
        timezone.make_aware(dt.datetime.combine(since, dt.time.min)),
        link=link,
        exact=link.exact_dates,
    )
    milestone_marks = reads.milestone_marks(roadmap, board, exact=link.exact_dates)
    milestones = [
        {
            "name": m.name,
            "kind": m.get_kind_display(),
            "when": format_date(m.date, exact=link.exact_dates),
        }
        for m in board.milestones
    ]
    response = render(
        request,
        "roadmaps/shared.html",
        {
            "link": link,
            "roadmap": roadmap,
            "board": board,
            "timeline": timeline,
            "unscheduled_html": mark_safe(cards_html(board.unscheduled, opts)),
            "changes": changes,
            "since": since,
            "milestones": milestones,
            "milestone_marks": milestone_marks,
            "token": token,
            "objectives": _objectives_with_entries(board),
            "updated_at": link.roadmap.updated_at,
            "etag": etag,
            "extra_blocks": shared_blocks.blocks_for("page", request, link, token, board=board),
        },
    )
    response["ETag"] = etag
    return _share_headers(response)


def _objectives_with_entries(board):
    """The objectives this audience's entries serve, in strategy order."""
    served = {o.pk for c in board.cards for o in c.objectives}
    return [o for o in board.objectives if o.pk in served]


@csrf_exempt  # the shared page carries no CSRF token (no session to protect)
def shared_unlock(request, token):
    link = resolve(token)
    if request.method != "POST":
        return _share_headers(HttpResponseNotAllowed(["POST"]))
    if not link.has_password:
        return _share_headers(HttpResponseNotAllowed(SAFE))
    client = client_ip(request)
    try:
        ok = services.check_share_password(link, request.POST.get("password", ""), client=client)
    except services.TooManyAttempts:
        response = _password_page(
            request,
            token,
            link,
            error="Too many wrong passwords. Wait a few minutes, then try again.",
            status=429,
        )
        response["Retry-After"] = str(services.PASSWORD_WINDOW)
        return response
    if not ok:
        return _password_page(request, token, link, error="That password is not right.", status=403)
    response = HttpResponse(status=303)
    response["Location"] = reverse("roadmaps:shared-roadmap", args=[token])
    response.set_cookie(
        COOKIE,
        _unlock_value(link),
        max_age=12 * 3600,
        path=reverse("roadmaps:shared-roadmap", args=[token]),
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return _share_headers(response)


def shared_entry(request, token, eid):
    """One entry of the shared roadmap, with the why behind it. The entry
    must belong to the link's roadmap and be visible to its audience."""
    if request.method not in SAFE:
        return _share_headers(HttpResponseNotAllowed(SAFE))
    link = resolve(token)
    if not _unlocked(request, link):
        return _password_page(request, token, link)
    entry = (
        Entry.objects.filter(pk=eid, roadmap_id=link.roadmap_id)
        .select_related("item", "item__owner", "item__product")
        .prefetch_related("item__objectives", "item__tags")
        .first()
    )
    if entry is None:
        raise Http404("No such entry on this roadmap.")
    tags = [t.name for t in entry.item.tags.all()] if entry.item_id else []
    if not reads.entry_visible(entry, tags, link):
        raise Http404("No such entry on this roadmap.")
    objectives = list(entry.item.objectives.all()) if entry.item_id else []
    board = reads.load_board(link.roadmap, link=link)
    blocked_by = next((c.blocked_by for c in board.cards if c.id == entry.pk), [])
    response = render(
        request,
        "roadmaps/shared_entry.html",
        {
            "link": link,
            "roadmap": link.roadmap,
            "entry": entry,
            "objectives": objectives,
            "blocked_by": blocked_by,
            "dates": dates_text(entry.start_date, entry.end_date, exact=link.exact_dates),
            "token": token,
            "extra_blocks": shared_blocks.blocks_for("entry", request, link, token, entry=entry),
        },
    )
    return _share_headers(response)


class ChangesFeed(Feed):
    """Atom feed of a shared roadmap's changes (what the link may show)."""

    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        if request.method not in SAFE:
            return _share_headers(HttpResponseNotAllowed(SAFE))
        link = resolve(kwargs["token"])
        if not _unlocked(request, link):
            raise Http404("This roadmap needs its password.")
        return _share_headers(super().__call__(request, *args, **kwargs))

    def get_object(self, request, token):
        link = resolve(token)
        link.token = token
        return link

    def title(self, link):
        return f"{link.roadmap.name}: roadmap changes"

    def link(self, link):
        return reverse("roadmaps:shared-roadmap", args=[link.token])

    def subtitle(self, link):
        return "Added, moved, slipped, shipped and removed entries."

    def items(self, link):
        since = timezone.now() - dt.timedelta(days=365)
        changes = reads.changes_since(
            link.roadmap, since, link=link, limit=50, exact=link.exact_dates
        )
        for change in changes:
            change.token = link.token
        return changes

    def item_title(self, change):
        return f"{change.get_kind_display()}: {change.title}"

    def item_description(self, change):
        return change.shown_detail or change.get_kind_display()

    def item_link(self, change):
        return reverse("roadmaps:shared-roadmap", args=[change.token]) + f"#change-{change.pk}"

    def item_guid(self, change):
        return f"change-{change.pk}"

    item_guid_is_permalink = False

    def item_pubdate(self, change):
        return change.at

    def item_updateddate(self, change):
        return change.at


def shared_live(request, token):
    """The shared page's live stream, for links that opt in (``live``):
    ``changed`` whenever the page's ETag would change, ``revoked`` when the
    link stops working. It says nothing else; the page refetches itself."""
    if request.method not in SAFE:
        return _share_headers(HttpResponseNotAllowed(SAFE))
    unknown = set(request.GET) - {"v"}
    if unknown:
        return _share_headers(HttpResponseBadRequest("Unknown parameter."))
    link = resolve(token)
    if not link.live or not _unlocked(request, link):
        raise Http404("No such roadmap.")
    since = timezone.localdate() - dt.timedelta(days=DEFAULT_SINCE_DAYS)
    seen = {"etag": request.GET.get("v", "")[:40]}

    def check():
        found = sharing.probe(token, count=False)
        if found is None:
            return "gone"
        etag = _etag(found, timezone.localdate(), since)
        if etag.strip('"') == seen["etag"].strip('"'):
            return None
        seen["etag"] = etag
        return "changed"

    lifetime = settings.LIVE_STREAM_SECONDS
    workspace_id = link.roadmap.workspace_id
    if isinstance(request, ASGIRequest):
        body = live_streams.watch_async(workspace_id, check, lifetime=lifetime)
    else:
        body = live_streams.watch_sync(workspace_id, check, lifetime=lifetime)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["X-Accel-Buffering"] = "no"
    _share_headers(response)
    response["Cache-Control"] = "no-cache, no-transform"
    return response
