"""What a stakeholder reads in "what changed since …": the change log with
the noise taken out. Several moves of one entry become one, from where it
was before the first to where it is after the last, and a move that changes
nothing the audience sees (within the same quarter on a link that shows only
quarters, or back to where it was) is left out. The team's own log keeps
every row."""

from .models import Change, ChangeKind

MOVES = (ChangeKind.MOVED, ChangeKind.SLIPPED)
ARROW = " → "


def _key(change: Change):
    return ("entry", change.entry_id) if change.entry_id else ("title", change.title)


def _merge(newest: Change, oldest: Change) -> None:
    """Make ``newest`` span from before ``oldest`` to after itself."""
    if newest.detail or oldest.detail:
        first = (oldest.detail or "").split(ARROW)[0]
        last = (newest.detail or "").split(ARROW)[-1]
        newest.detail = f"{first}{ARROW}{last}"
        newest.back_where_it_was = first == last
    else:
        newest.from_start, newest.from_end = oldest.from_start, oldest.from_end
    if newest.from_end and newest.to_end:
        newest.kind = ChangeKind.SLIPPED if newest.to_end > newest.from_end else ChangeKind.MOVED


def _visible(change: Change, shown_detail: str) -> bool:
    if change.kind not in MOVES:
        return True
    if getattr(change, "back_where_it_was", False):
        return False  # Next → Later → Next
    return not shown_detail.startswith("within ")  # the same dates, or quarter, as before


def coalesce(changes: list[Change], detail) -> list[Change]:
    """``changes`` newest first; ``detail(change)`` is the text the audience
    would read. Returns the changes to show, each with ``shown_detail``."""
    newest_move: dict = {}
    kept = []
    for change in changes:
        if change.kind in MOVES:
            newer = newest_move.get(_key(change))
            if newer is not None:
                _merge(newer, change)
                continue
            newest_move[_key(change)] = change
        elif change.kind in (ChangeKind.ADDED, ChangeKind.REMOVED):
            newest_move.pop(_key(change), None)  # moves before an add/remove stay apart
        kept.append(change)
    shown = []
    for change in kept:
        change.shown_detail = detail(change)
        if _visible(change, change.shown_detail):
            shown.append(change)
    return shown
