"""Suite "roadmaps" of `make bench`: a roadmap of 500 entries built from the
bench backlog.

- the editor page's queries at 500 entries equal those at 50 (they do not
  grow with entries);
- its HTML p50 against the page's own card template (``roadmaps/_cards.html``,
  the source of truth of the card markup) fed the same cards from
  ``.values()`` plus the objective titles — checked byte for byte against the
  page's cards — both as plain Django views through the same test client;
  reported beside it, not a target: the same cards read as ``reads.Card`` rows
  and written by ``roadmaps.rendering`` (the page's own fast path), with no
  page around them;
- the shared page's conditional GET (304) against a bare Django view that
  returns a constant response, through the same client and middleware.

Baseline views live here and are mounted by bench/urls.py."""

import re
from collections import defaultdict
from types import SimpleNamespace

from django.http import HttpResponse
from django.template.loader import get_template

ROADMAP_NAME = "Bench roadmap ({n} entries)"
ARTICLE = re.compile(r"<article .*?</article>", re.S)
# The page's columns, left to right: Now, Next, Later (rank order within each).
COLUMNS = {"now": 0, "next": 1, "later": 2}


def _objective_titles(roadmap_id: int) -> dict:
    from backlog.models import Item

    titles = defaultdict(list)
    links = Item.objectives.through.objects.filter(
        item__roadmap_entries__roadmap_id=roadmap_id
    ).order_by("objective__position", "objective__id")
    for item_id, title in links.values_list("item_id", "objective__title"):
        titles[item_id].append(title)
    return titles


def baseline_rows(roadmap_id: int) -> list[dict]:
    """The cards the page shows, from ``.values()`` and one query for the
    objective titles: no model instances, no prefetch machinery; per row only
    what a template cannot compute (labels, the score's format, the owner's
    name)."""
    from backlog.models import Status
    from roadmaps.dates import dates_text
    from roadmaps.models import Commitment, Entry

    statuses, commitments = dict(Status.choices), dict(Commitment.choices)
    rows = list(
        Entry.objects.filter(roadmap_id=roadmap_id)
        .order_by("rank", "id")
        .values(
            "id",
            "version",
            "commitment",
            "horizon",
            "start_date",
            "end_date",
            "note",
            "item_id",
            "item__version",
            "item__key",
            "item__title",
            "item__status",
            "item__score",
            "item__owner__username",
            "item__owner__first_name",
            "item__owner__last_name",
        )
    )
    titles = _objective_titles(roadmap_id)
    rows.sort(key=lambda r: COLUMNS[r["horizon"]])
    for r in rows:
        score = r["item__score"]
        r["score"] = score
        r["score_text"] = (
            "" if score is None else (f"{score:,.0f}" if abs(score) >= 100 else f"{score:.1f}")
        )
        r["owner"] = ""
        if r["item__owner__username"]:
            full = f"{r['item__owner__first_name']} {r['item__owner__last_name']}".strip()
            r["owner"] = full or r["item__owner__username"]
        r["objectives"] = [{"title": t} for t in titles.get(r["item_id"], [])]
        r["key"] = r["item__key"]
        r["title"] = r["item__title"]
        r["status"] = r["item__status"]
        r["item_version"] = r["item__version"]
        r["status_label"] = statuses.get(r["item__status"], "")
        r["commitment_label"] = commitments.get(r["commitment"], "")
        r["dates"] = dates_text(r["start_date"], r["end_date"])
        r["warnings"] = r["blocked_by"] = ()
    return rows


def _options(request):
    from django.urls import reverse

    from roadmaps.rendering import CardOptions

    roadmap_id = int(request.GET["roadmap"])
    edit_url = reverse("roadmaps:roadmap-entry", args=[request.GET["slug"], roadmap_id, 0])
    return roadmap_id, CardOptions(edit_url=edit_url, draggable=True, show_dates=True)


def cards_baseline_view(request):
    """The page's card template fed ``.values()`` rows."""
    from roadmaps.rendering import TEMPLATE

    roadmap_id, opts = _options(request)
    context = {"cards": baseline_rows(roadmap_id), "opts": opts, "bar": False}
    return HttpResponse(get_template(TEMPLATE).render(context))


def fast_cards_view(request):
    """The same cards as the page's fast path writes them: ``reads.Card``
    rows (one ``values_list``) and ``rendering.cards_html``. Not a target."""
    from roadmaps.models import Entry
    from roadmaps.reads import CARD_COLUMNS, Card
    from roadmaps.rendering import cards_html

    roadmap_id, opts = _options(request)
    titles = _objective_titles(roadmap_id)
    cards = []
    for row in (
        Entry.objects.filter(roadmap_id=roadmap_id)
        .order_by("rank", "id")
        .values_list(*CARD_COLUMNS)
    ):
        card = Card.from_row(row)
        card.objectives = [SimpleNamespace(title=t) for t in titles.get(card.item_id, [])]
        cards.append(card)
    cards.sort(key=lambda c: COLUMNS[c.horizon])
    return HttpResponse(cards_html(cards, opts))


def bare_view(request):
    return HttpResponse(status=304)


def _roadmap(data, n: int):
    """A Now/Next/Later roadmap of the backlog's first ``n`` items (reused)."""
    from fractional_indexing import generate_n_keys_between

    from backlog.models import Item
    from roadmaps import services
    from roadmaps.models import Commitment, Entry, Horizon, Layout, Roadmap

    name = ROADMAP_NAME.format(n=n)
    roadmap = Roadmap.objects.filter(workspace=data["workspace"], name=name).first()
    if roadmap is not None and roadmap.entries.count() == n:
        return roadmap
    if roadmap is not None:
        roadmap.delete()
    roadmap = services.create_roadmap(
        data["user"],
        workspace=data["workspace"],
        product=data["product"],
        name=name,
        layout=Layout.NOW_NEXT_LATER,
    )
    items = list(Item.objects.filter(product=data["product"]).order_by("rank")[:n])
    horizons, levels = Horizon.values, Commitment.values
    Entry.objects.bulk_create(
        Entry(
            roadmap=roadmap,
            item=item,
            horizon=horizons[i % 3],
            commitment=levels[i % 3],
            note="Check capacity with the platform team." if i % 7 == 0 else "",
            rank=rank,
        )
        for i, (item, rank) in enumerate(
            zip(items, generate_n_keys_between(None, None, len(items)), strict=True)
        )
    )
    return roadmap


def measure(report, data, args) -> None:
    from django.conf import settings
    from django.test import Client

    from roadmaps import services

    from .core import QueryLog, interleaved, ms, p50

    print("==> roadmaps: a roadmap of 500 entries")
    big, small = _roadmap(data, 500), _roadmap(data, 50)
    workspace = data["workspace"]
    browser = Client()
    browser.force_login(data["user"])

    def page_of(roadmap):
        response = browser.get(f"/w/{workspace.slug}/roadmaps/{roadmap.pk}/")
        if response.status_code != 200:
            raise SystemExit(f"bench: the roadmap page answered {response.status_code}")
        return response

    def page():
        return page_of(big)

    def baseline():
        response = browser.get(
            "/__bench__/roadmap-cards/", {"roadmap": big.pk, "slug": workspace.slug}
        )
        assert response.status_code == 200
        return response

    def fast():
        response = browser.get(
            "/__bench__/roadmap-cards-fast/", {"roadmap": big.pk, "slug": workspace.slug}
        )
        assert response.status_code == 200
        return response

    ours = ARTICLE.findall(page().content.decode())
    for name, view in (("template", baseline), ("fast path", fast)):
        theirs = ARTICLE.findall(view().content.decode())
        if len(ours) != 500 or ours != theirs:
            diff = next(
                (n for n, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None
            )
            raise SystemExit(
                f"bench: the page's cards ({len(ours)}) differ from the {name} baseline's "
                f"({len(theirs)}), first at card {diff}"
            )
    counts = {}
    for roadmap in (small, big):
        with QueryLog() as log:
            page_of(roadmap)
        counts[roadmap.entries.count()] = len(log.queries)
    report.facts["roadmap_page_queries"] = counts
    report.check(
        "roadmap page queries: 50 entries vs 500 entries",
        f"{counts[50]} vs {counts[500]}",
        "equal",
        counts[50] == counts[500],
        note="the editor page's queries do not grow with entries",
    )

    _link, token = services.rotate_demo_link(data["user"], roadmap=big, label="bench")
    shared_url = f"/s/{token}/"
    anonymous = Client()
    first = anonymous.get(shared_url)
    if first.status_code != 200 or first.content.count(b"<article ") != 500:
        raise SystemExit(f"bench: the shared page answered {first.status_code}")
    etag = first["ETag"]

    def conditional():
        response = anonymous.get(shared_url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 304
        return response

    def bare():
        response = anonymous.get("/__bench__/bare/")
        assert response.status_code == 304
        return response

    with QueryLog() as log:
        conditional()
    report.facts["shared_304_queries"] = [sql[:160] for sql in log.sql]
    reps = max(20, args.reps)
    t = interleaved(
        {"page": page, "baseline": baseline, "fast": fast}, reps=reps, warmup=max(3, reps // 10)
    )
    # The 304 and its baseline in turns of their own: after a 500-card page,
    # the garbage collector would bill its work to whichever request came next.
    t.update(interleaved({"conditional": conditional, "bare": bare}, reps=reps * 10, warmup=50))
    fast_ratio = p50(t["page"]) / p50(t["fast"])
    report.ratio(
        "roadmap HTML page (500 entries) vs the same cards, minimal template",
        p50(t["page"]),
        p50(t["baseline"]),
        1.3,
        baseline_name=".values() + objective titles + the page's card template "
        "(roadmaps/_cards.html; checked byte for byte), no page around it, in a plain Django view",
        extra={"fast_path_cards_ms": ms(p50(t["fast"])), "fast_path_ratio": round(fast_ratio, 4)},
        note=f"{counts[500]} queries per page at 500 entries, {counts[50]} at 50; the same cards "
        f"as the page's fast path writes them (reads.Card rows + rendering.cards_html), no page "
        f"around them: {ms(p50(t['fast'])):.2f} ms ({fast_ratio:.2f}×, not a target)",
    )
    report.ratio(
        "shared roadmap conditional GET (304) vs a bare Django view",
        p50(t["conditional"]),
        p50(t["bare"]),
        2.0,
        baseline_name="a view returning a constant 304, same client and middleware",
        note=f"{len(log.queries)} database queries per 304: the link and its ETag inputs come "
        "from the cache (read from the database at most once a minute per link, or at once "
        "after an edit or a revocation); the view is counted in memory and written at most "
        "once a minute; "
        f"cache backend {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}; "
        f"bare view {ms(p50(t['bare'])):.2f} ms",
    )
