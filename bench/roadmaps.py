"""Suite "roadmaps" of `make bench`: a roadmap of 500 entries built from the
bench backlog.

- the editor page's queries at 500 entries equal those at 50 (they do not
  grow with entries);
- its HTML p50 against a minimal template fed the same rows (``.values()``
  plus the objective titles, writing the page's very card markup — checked
  byte for byte), both as plain Django views through the same test client;
- the shared page's conditional GET (304) against a bare Django view that
  returns a constant response, through the same client and middleware.

Baseline views live here and are mounted by bench/urls.py."""

import functools
import re
from collections import defaultdict

from django.http import HttpResponse
from django.template import engines

ROADMAP_NAME = "Bench roadmap ({n} entries)"
ARTICLE = re.compile(r"<article .*?</article>", re.S)

CARD_SOURCE = (
    "{% for r in rows %}"
    '<article id="entry-{{ r.id }}" class="rm-card cm-{{ r.commitment }}" data-id="{{ r.id }}" '
    'data-version="{{ r.version }}" tabindex="0" data-item-version="{{ r.item__version }}">'
    '<div class="rm-card-top"><span class="rm-key">{{ r.item__key }}</span>'
    '<span class="badge item-status-{{ r.item__status }}">{{ r.status_label }}</span>'
    '<span class="rm-commit cm-{{ r.commitment }}">{{ r.commitment_label }}</span></div>'
    '<a class="rm-title" href="{{ r.href }}">{{ r.item__title }}</a>'
    '{% if r.objectives %}<p class="rm-obj"><span aria-hidden="true">◎</span> '
    '{{ r.objectives|join:" · " }}</p>{% else %}<p class="rm-obj rm-noobj">No objective</p>'
    "{% endif %}"
    '{% if r.score_text or r.owner %}<p class="rm-meta">'
    '{% if r.score_text %}<span class="rm-score">Score {{ r.score_text }}</span>{% endif %}'
    "{% if r.score_text and r.owner %} · {% endif %}"
    '{% if r.owner %}<span class="rm-owner">{{ r.owner }}</span>{% endif %}</p>{% endif %}'
    '{% if r.note %}<p class="rm-note">{{ r.note|slice:":280" }}</p>{% endif %}'
    "</article>\n"
    "{% endfor %}"
)


@functools.cache
def card_template():
    return engines["django"].from_string(CARD_SOURCE)


def baseline_rows(roadmap_id: int, edit_url: str) -> list[dict]:
    """The rows the page shows, from ``.values()`` and one query for the
    objective titles: no model instances, no prefetch machinery."""
    from backlog.models import Item, Status
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
    titles = defaultdict(list)
    links = Item.objectives.through.objects.filter(
        item__roadmap_entries__roadmap_id=roadmap_id
    ).order_by("objective__position", "objective__id")
    for item_id, title in links.values_list("item_id", "objective__title"):
        titles[item_id].append(title)
    # The page's columns, left to right: Now, Next, Later (rank order within each).
    columns = {"now": 0, "next": 1, "later": 2}
    rows.sort(key=lambda r: columns[r["horizon"]])
    for r in rows:
        score = r["item__score"]
        r["score_text"] = (
            "" if score is None else (f"{score:,.0f}" if abs(score) >= 100 else f"{score:.1f}")
        )
        r["owner"] = ""
        if r["item__owner__username"]:
            full = f"{r['item__owner__first_name']} {r['item__owner__last_name']}".strip()
            r["owner"] = full or r["item__owner__username"]
        r["objectives"] = titles.get(r["item_id"], [])
        r["status_label"] = statuses.get(r["item__status"], "")
        r["commitment_label"] = commitments.get(r["commitment"], "")
        r["href"] = edit_url.replace("/entries/0/", f"/entries/{r['id']}/")
    return rows


def cards_baseline_view(request):
    from django.urls import reverse

    roadmap_id = int(request.GET["roadmap"])
    edit_url = reverse("roadmaps:roadmap-entry", args=[request.GET["slug"], roadmap_id, 0])
    return HttpResponse(card_template().render({"rows": baseline_rows(roadmap_id, edit_url)}))


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

    from .run import QueryLog, interleaved, ms, p50

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

    ours = ARTICLE.findall(page().content.decode())
    theirs = ARTICLE.findall(baseline().content.decode())
    if len(ours) != 500 or ours != theirs:
        diff = next((n for n, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b), None)
        raise SystemExit(
            f"bench: the page's cards ({len(ours)}) differ from the baseline's ({len(theirs)}), "
            f"first at card {diff}"
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
    t = interleaved({"page": page, "baseline": baseline}, reps=reps, warmup=max(3, reps // 10))
    # The 304 and its baseline in turns of their own: after a 500-card page,
    # the garbage collector would bill its work to whichever request came next.
    t.update(interleaved({"conditional": conditional, "bare": bare}, reps=reps * 10, warmup=50))
    report.ratio(
        "roadmap HTML page (500 entries) vs the same cards, minimal template",
        p50(t["page"]),
        p50(t["baseline"]),
        1.5,
        baseline_name=".values() + objective titles + a plain template writing the page's cards "
        "(same markup, checked byte for byte), no page around them, in a plain Django view",
        note=f"{counts[500]} queries per page at 500 entries, {counts[50]} at 50",
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
