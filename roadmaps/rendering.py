"""Roadmap cards, timeline bars and the entry <option>s written in Python,
for speed: a roadmap holds hundreds of entries, and the template per card
costs more than the rest of the page. The editor (every layout) and the
shared page use these writers.

The templates are the source of truth for the markup:
``roadmaps/_cards.html`` (cards and bars) and ``roadmaps/_entry_options.html``.
These functions write the very same bytes, and
tests/roadmaps/test_rendering.py renders a board with every kind of card
through both, for each audience, and fails on the first byte that differs:
change a template and its writer together."""

from dataclasses import dataclass
from html import escape

TEMPLATE = "roadmaps/_cards.html"
OPTIONS_TEMPLATE = "roadmaps/_entry_options.html"


@dataclass(frozen=True)
class CardOptions:
    """What a card's audience sees. The shared page gets no edit URL and no
    data attributes, and a field the link hides is never written."""

    edit_url: str | None = None  # the editor: the URL of entry 0 (".../entries/0/")
    detail_url: str | None = None  # the shared page: the URL of entry 0
    draggable: bool = False  # editors: data attributes for drag and drop
    show_scores: bool = True
    show_owners: bool = True
    show_notes: bool = True
    show_dates: bool = False
    show_warnings: bool = True  # dependency warnings are for the team, not the audience

    def __post_init__(self):
        for url in (self.edit_url, self.detail_url):
            if url is not None and not url.endswith("/0/"):
                raise ValueError(f"An entry URL ends with /0/ (the id goes there): {url!r}")

    @property
    def link_prefix(self) -> str:
        """The URL of an entry, without its id and last slash; "" for no link."""
        url = self.edit_url if self.edit_url is not None else self.detail_url
        return url[:-2] if url is not None else ""


def cards_html(cards, opts: CardOptions, *, bar: bool = False) -> str:
    """``cards`` (``reads.Card``) as ``roadmaps/_cards.html`` writes them;
    ``bar`` for timeline bars."""
    prefix = opts.link_prefix
    return "\n".join([_card(card, opts, prefix, bar) for card in cards])


def _card(card, opts: CardOptions, prefix: str, bar: bool) -> str:
    cid = card.id
    commitment = card.commitment
    classes = f"rm-card cm-{commitment}"
    if bar:
        classes += f" tl-bar gs-{card.col_start} ge-{card.col_end}"
        if card.clip_start:
            classes += " clip-l"
        if card.clip_end:
            classes += " clip-r"
    warn = card.warnings and opts.show_warnings
    if warn:
        classes += " has-warning"
    out = [f'<article id="entry-{cid}" class="{classes}"']
    if bar and card.blocked_by:
        # Drawn as arrows by static/js/roadmap-deps.js (editor and shared page).
        out.append(f' data-after="{card.after_ids}"')
    if opts.draggable:
        out.append(f' data-id="{cid}" data-version="{card.version}" tabindex="0"')
        if card.item_id:
            out.append(f' data-item-version="{card.item_version}"')
        if bar:
            out.append(' data-bar=""')
    if card.item_id:
        out.append(
            f'><div class="rm-card-top"><span class="rm-key">{escape(card.key)}</span>'
            f'<span class="badge item-status-{card.status}">{card.status_label}</span>'
        )
    else:
        out.append('><div class="rm-card-top"><span class="rm-key">Card</span>')
    out.append(f'<span class="rm-commit cm-{commitment}">{card.commitment_label}</span></div>')
    title = escape(card.title)
    if prefix:
        out.append(f'<a class="rm-title" href="{prefix}{cid}/">{title}</a>')
    else:
        out.append(f'<span class="rm-title">{title}</span>')
    if card.objectives:
        names = " · ".join([escape(o.title) for o in card.objectives])
        out.append(f'<p class="rm-obj"><span aria-hidden="true">◎</span> {names}</p>')
    elif opts.edit_url is not None:
        out.append('<p class="rm-obj rm-noobj">No objective</p>')
    if opts.show_dates:
        dates = card.dates
        if dates:
            out.append(f'<p class="rm-dates">{escape(dates)}</p>')
    meta = []
    if opts.show_scores and card.score is not None:
        meta.append(f'<span class="rm-score">Score {card.score_text}</span>')
    if opts.show_owners and card.owner:
        meta.append(f'<span class="rm-owner">{escape(card.owner)}</span>')
    if card.blocked_by:
        meta.append(f'<span class="rm-dep">after {escape(card.after_labels)}</span>')
    if meta:
        out.append(f'<p class="rm-meta">{" · ".join(meta)}</p>')
    if warn:
        out.append(f'<p class="rm-warn">⚠ {escape(card.warnings[0])}</p>')
    if opts.show_notes and card.note:
        out.append(f'<p class="rm-note">{escape(card.note[:280])}</p>')
    if bar and opts.draggable:
        out.append('<span class="tl-grip" aria-hidden="true"></span>')
    out.append("</article>")
    return "".join(out)


def entry_options_html(cards) -> str:
    """The ``<option>``s of a roadmap's entries (both dependency selects of
    the editor), as ``roadmaps/_entry_options.html`` writes them."""
    return "".join(
        [f'<option value="{card.id}">{escape(card.short_title)}</option>' for card in cards]
    )
