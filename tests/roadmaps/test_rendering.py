"""The card template is the source of truth; roadmaps.rendering writes the
same bytes faster. Every kind of card — item and free-text entries, each
commitment level and status, with and without a score, owner, objectives,
tags, dependencies and their warnings, clipped and unscheduled bars,
HTML-special characters — is rendered through both, for the editor, a
viewer and shared pages that show or hide fields, and compared byte for
byte. The pages themselves must show exactly the template's cards."""

import datetime as dt
import html
import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from backlog.models import Item, Status
from roadmaps import reads, services
from roadmaps.models import Commitment, DateMode, Horizon, Layout
from roadmaps.rendering import OPTIONS_TEMPLATE, TEMPLATE, cards_html, entry_options_html
from roadmaps.views import editor, public
from tests.backlog.factories import make_item
from tests.factories import ObjectiveFactory

SPECIAL = "<b>&\"quoted\" 'n'</b>"
LONG = "A title long enough to be cut in the dependency selects and in “after …” labels"
ARTICLE = re.compile(r'<article id="entry-.*?</article>', re.S)


@pytest.fixture
def kinds(product, pm, teammate, viewer, objective):
    """Items of every status, with and without score, owner, objectives and
    tags, several with HTML-special characters."""
    teammate.first_name, teammate.last_name = "Ann", "O'Neil & <Co>"
    teammate.save()
    special = ObjectiveFactory(product=product, title=f"Retain {SPECIAL}", position=0)

    def item(title, status, score, **fields):
        made = make_item(product, pm, title=title, **fields)
        Item.objects.filter(pk=made.pk).update(status=status, score=score)
        return made

    return {
        "special": item(
            f"Pay {SPECIAL}",
            Status.IN_PROGRESS,
            1250.5,
            owner=teammate,
            objectives=[objective, special],
            tags=["beta"],
        ),
        "planned": item("Refunds", Status.PLANNED, 42.25, owner=viewer),
        "secret": item("Falcon", Status.CANDIDATE, None, tags=["secret"]),
        "shipped": item(LONG, Status.SHIPPED, -3.0, objectives=[special]),
        "idea": item("Dark mode", Status.IDEA, 0.04),
        "declined": item("Fax export", Status.DECLINED, None),
    }


def _roadmap(workspace, product, pm, layout, **fields):
    return services.create_roadmap(
        pm, workspace=workspace, product=product, name=layout, layout=layout, **fields
    )


@pytest.fixture
def timeline(workspace, product, pm, kinds):
    roadmap = _roadmap(
        workspace,
        product,
        pm,
        Layout.TIMELINE,
        lane_by="objective",
        start_date=dt.date(2027, 1, 1),
        periods=6,
    )
    add = services.add_entry
    spans = {
        "special": (dt.date(2026, 11, 15), dt.date(2027, 2, 10), Commitment.COMMITTED),  # clipped
        "planned": (dt.date(2027, 2, 1), dt.date(2027, 9, 30), Commitment.LIKELY),  # clipped
        "secret": (dt.date(2027, 3, 1), dt.date(2027, 3, 31), Commitment.EXPLORING),
        "shipped": (dt.date(2027, 1, 1), dt.date(2027, 1, 31), Commitment.COMMITTED),
        "idea": (dt.date(2028, 1, 1), dt.date(2028, 2, 1), Commitment.LIKELY),  # not on the grid
    }
    entries = {
        name: add(pm, roadmap=roadmap, item=kinds[name], start_date=s, end_date=e, commitment=level)
        for name, (s, e, level) in spans.items()
    }
    entries["card"] = add(
        pm,
        roadmap=roadmap,
        title=f"Partners {SPECIAL}",
        note=f"Ask legal {SPECIAL} " + "x" * 300,
        start_date=dt.date(2027, 1, 5),
        end_date=dt.date(2027, 4, 30),
        commitment=Commitment.EXPLORING,
    )
    services.add_dependency(pm, blocker=entries["card"], blocked=entries["planned"])  # warns
    services.add_dependency(pm, blocker=entries["special"], blocked=entries["secret"])
    services.add_dependency(pm, blocker=entries["shipped"], blocked=entries["secret"])
    services.add_milestone(pm, roadmap=roadmap, name=f"Launch {SPECIAL}", date=dt.date(2027, 3, 1))
    return roadmap


@pytest.fixture
def now_next_later(workspace, product, pm, kinds):
    roadmap = _roadmap(workspace, product, pm, Layout.NOW_NEXT_LATER)
    add = services.add_entry
    first = add(
        pm,
        roadmap=roadmap,
        item=kinds["special"],
        horizon=Horizon.NOW,
        note="Soon",
        commitment=Commitment.COMMITTED,
    )
    later = add(
        pm,
        roadmap=roadmap,
        item=kinds["shipped"],
        horizon=Horizon.LATER,
        start_date=dt.date(2027, 2, 3),
        end_date=dt.date(2027, 5, 31),
        commitment=Commitment.EXPLORING,
    )
    add(pm, roadmap=roadmap, item=kinds["secret"], horizon=Horizon.NEXT)
    add(pm, roadmap=roadmap, title=SPECIAL, horizon=Horizon.NEXT, start_date=dt.date(2027, 4, 1))
    services.add_dependency(pm, blocker=later, blocked=first)  # later blocks now: a warning
    return roadmap


@pytest.fixture
def status_board(workspace, product, pm, kinds):
    roadmap = _roadmap(workspace, product, pm, Layout.STATUS)
    for n, name in enumerate(kinds):
        services.add_entry(
            pm, roadmap=roadmap, item=kinds[name], commitment=Commitment.values[n % 3]
        )
    return roadmap


def _links(roadmap, pm):
    shown, shown_token = services.create_share_link(
        pm, roadmap=roadmap, label="all", hide_scores=False, hide_owners=False, hide_notes=False
    )
    hidden, hidden_token = services.create_share_link(
        pm,
        roadmap=roadmap,
        label="hidden",
        date_mode=DateMode.COARSE,
        exclude_commitments=[Commitment.EXPLORING],
        exclude_tags=["secret"],
    )
    return [(shown, shown_token), (hidden, hidden_token)]


def _audiences(roadmap, pm):
    """(audience, board, card options, page URL) as the editor and the shared
    page build them (share links are made here)."""
    timeline = roadmap.layout == Layout.TIMELINE
    url = reverse("roadmaps:roadmap", args=[roadmap.workspace.slug, roadmap.pk])
    board = reads.load_board(roadmap)
    for name, can_edit in (("editor", True), ("viewer", False)):
        yield name, board, editor.card_options(roadmap, can_edit=can_edit), url
    for link, token in _links(roadmap, pm):
        board = reads.load_board(reads.audience_roadmap(link), link=link)
        opts = public.card_options(link, token, dates=timeline)
        yield f"shared {link.label}", board, opts, reverse("roadmaps:shared-roadmap", args=[token])


def _card_lists(board):
    timeline = board.roadmap.layout == Layout.TIMELINE
    for lane in board.lanes:
        for column in lane.columns:
            yield column.cards, timeline
    yield board.unscheduled, False


def _template(cards, opts, bar):
    return render_to_string(TEMPLATE, {"cards": cards, "opts": opts, "bar": bar})


LAYOUT_FIXTURES = ["timeline", "now_next_later", "status_board"]


@pytest.mark.parametrize("layout", LAYOUT_FIXTURES)
def test_the_writer_writes_the_templates_bytes_for_every_kind_of_card(request, pm, layout):
    roadmap = request.getfixturevalue(layout)
    written = []
    for audience, board, opts, _url in _audiences(roadmap, pm):
        for cards, bar in _card_lists(board):
            for as_bar in {bar, False}:  # a timeline's unscheduled cards are cards, not bars
                fast = cards_html(cards, opts, bar=as_bar)
                assert fast == _template(cards, opts, as_bar), (audience, as_bar)
                written.append((audience, fast))
        options = entry_options_html(board.cards)
        assert options == render_to_string(OPTIONS_TEMPLATE, {"cards": board.cards})
        assert options.count("<option ") == len(board.cards)

    # The fixture covers what it claims to (or the comparison would prove little).
    everything = "".join(html for _a, html in written)
    for fragment in (
        *(f"cm-{level}" for level in Commitment.values),
        "rm-score",
        "rm-owner",
        "rm-obj",
        "rm-noobj",
        "&lt;b&gt;&amp;&quot;quoted&quot; &#x27;n&#x27;&lt;/b&gt;",
        'data-item-version="',
        'tabindex="0"',
    ):
        assert fragment in everything, fragment
    shared_hidden = "".join(html for a, html in written if a == "shared hidden")
    for hidden in ("rm-score", "rm-owner", "rm-note", "data-id", "rm-warn", "Falcon", "Partners"):
        assert hidden not in shared_hidden


def test_timeline_bars_cover_clipping_dependencies_warnings_and_notes(timeline, pm):
    editor = next(o for a, _b, o, _u in _audiences(timeline, pm) if a == "editor")
    board = reads.load_board(timeline)
    bars = "".join(cards_html(cards, editor, bar=bar) for cards, bar in _card_lists(board))
    for fragment in (
        "tl-bar",
        "clip-l",
        "clip-r",
        "has-warning",
        "rm-warn",
        "data-after=",
        "after PAY-1, PAY-4",
        'data-bar=""',
        "tl-grip",
        "rm-note",
        'rm-key">Card',
        "Score 1,250",
        "Score 42.2",
        "Score -3.0",
        "Ann O&#x27;Neil &amp; &lt;Co&gt;",
    ):
        assert fragment in bars, fragment
    assert len(board.unscheduled) == 1  # the entry of 2028
    note = re.search(r'<p class="rm-note">(.*?)</p>', bars).group(1)
    assert len(html.unescape(note)) == 280  # notes are cut to 280 characters


@pytest.mark.parametrize("layout", LAYOUT_FIXTURES)
def test_pages_show_exactly_the_templates_cards(request, as_user, pm, viewer, layout):
    roadmap = request.getfixturevalue(layout)
    users = {"editor": pm, "viewer": viewer}
    for audience, board, opts, url in _audiences(roadmap, pm):
        expected = "\n".join(_template(cards, opts, bar) for cards, bar in _card_lists(board))
        page = as_user(users.get(audience, pm)).get(url)  # the shared page needs no login
        assert page.status_code == 200, audience
        shown = ARTICLE.findall(page.content.decode())
        assert shown == ARTICLE.findall(expected), audience
        assert len(shown) == len(board.cards) > 0
