"""Roadmap cards and timeline bars written in Python: a roadmap can hold
hundreds of entries, and a template per card costs more than the rest of the
page. The same writer serves the editor and the shared page; ``CardOptions``
says what the audience sees (the shared page gets no edit URL and no data
attribute, and hidden fields are never written)."""

from dataclasses import dataclass
from html import escape

from backlog.models import Status

from .dates import format_span
from .models import Commitment
from .reads import Card

STATUS_LABELS = dict(Status.choices)
COMMITMENT_LABELS = dict(Commitment.choices)


@dataclass(frozen=True)
class CardOptions:
    edit_url: str | None = None  # ".../entries/0/" template; None on shared pages
    draggable: bool = False  # editors: data attributes for drag and drop
    detail_url: str | None = None  # shared page: ".../entries/0/"
    show_scores: bool = True
    show_owners: bool = True
    show_notes: bool = True
    exact_dates: bool = True
    show_dates: bool = False
    show_warnings: bool = True  # dependency warnings are for the team, not the audience


def _fmt_score(score) -> str:
    if score is None:
        return ""
    return f"{score:,.0f}" if abs(score) >= 100 else f"{score:.1f}"


def dates_text(entry, exact: bool) -> str:
    if not entry.start_date and not entry.end_date:
        return ""
    return format_span(entry.start_date, entry.end_date, exact=exact, empty="")


def card_html(card: Card, opts: CardOptions, *, bar: bool = False) -> str:
    entry = card.entry
    item = entry.item if entry.item_id else None
    eid = entry.pk
    title = escape(item.title if item else entry.title)
    classes = ["rm-card", f"cm-{entry.commitment}"]
    if bar:
        classes += ["tl-bar", f"gs-{card.col_start}", f"ge-{card.col_end}"]
        if card.clip_start:
            classes.append("clip-l")
        if card.clip_end:
            classes.append("clip-r")
    if card.warnings and opts.show_warnings:
        classes.append("has-warning")
    attrs = f'id="entry-{eid}" class="{" ".join(classes)}"'
    if bar and card.blocked_by:
        # Drawn as arrows by static/js/roadmap-deps.js (editor and shared page).
        attrs += f' data-after="{" ".join(str(b.entry.pk) for b in card.blocked_by)}"'
    if opts.draggable:
        attrs += f' data-id="{eid}" data-version="{entry.version}" tabindex="0"'
        if item is not None:
            attrs += f' data-item-version="{item.version}"'
        if bar:
            attrs += ' data-bar=""'
    parts = [f"<article {attrs}>"]
    top = []
    if item is not None:
        top.append(f'<span class="rm-key">{escape(item.key)}</span>')
        label = STATUS_LABELS.get(item.status, "")
        top.append(f'<span class="badge item-status-{item.status}">{label}</span>')
    else:
        top.append('<span class="rm-key">Card</span>')
    top.append(
        f'<span class="rm-commit cm-{entry.commitment}">'
        f"{COMMITMENT_LABELS.get(entry.commitment, '')}</span>"
    )
    parts.append(f'<div class="rm-card-top">{"".join(top)}</div>')
    if opts.edit_url is not None:
        href = opts.edit_url.replace("/entries/0/", f"/entries/{eid}/")
        parts.append(f'<a class="rm-title" href="{href}">{title}</a>')
    elif opts.detail_url is not None:
        href = opts.detail_url.replace("/entries/0/", f"/entries/{eid}/")
        parts.append(f'<a class="rm-title" href="{href}">{title}</a>')
    else:
        parts.append(f'<span class="rm-title">{title}</span>')
    if card.objectives:
        names = " · ".join(escape(o.title) for o in card.objectives)
        parts.append(f'<p class="rm-obj"><span aria-hidden="true">◎</span> {names}</p>')
    elif opts.edit_url is not None:
        parts.append('<p class="rm-obj rm-noobj">No objective</p>')
    if opts.show_dates:
        text = dates_text(entry, opts.exact_dates)
        if text:
            parts.append(f'<p class="rm-dates">{text}</p>')
    meta = []
    if opts.show_scores and item is not None and item.score is not None:
        meta.append(f'<span class="rm-score">Score {_fmt_score(item.score)}</span>')
    if opts.show_owners and item is not None and item.owner_id:
        owner = item.owner.get_full_name() or item.owner.username
        meta.append(f'<span class="rm-owner">{escape(owner)}</span>')
    if card.blocked_by:
        keys = ", ".join(
            escape(b.entry.item.key if b.entry.item_id else b.entry.title[:24])
            for b in card.blocked_by
        )
        meta.append(f'<span class="rm-dep">after {keys}</span>')
    if meta:
        parts.append(f'<p class="rm-meta">{" · ".join(meta)}</p>')
    if card.warnings and opts.show_warnings:
        parts.append(f'<p class="rm-warn">⚠ {escape(card.warnings[0])}</p>')
    if opts.show_notes and entry.note:
        parts.append(f'<p class="rm-note">{escape(entry.note[:280])}</p>')
    if bar and opts.draggable:
        parts.append('<span class="tl-grip" aria-hidden="true"></span>')
    parts.append("</article>")
    return "".join(parts)


def cards_html(cards, opts: CardOptions, *, bar: bool = False) -> str:
    return "\n".join(card_html(c, opts, bar=bar) for c in cards)
