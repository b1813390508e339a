"""The backlog table's rows as HTML.

``templates/backlog/_row.html`` is the markup's source of truth: single
rows (after an inline edit, a quick add, a conflict) are rendered with it,
and so is the benchmark's baseline. A page of rows is written by
``RowWriter``, which produces the same bytes with f-strings at a fraction of
the template engine's cost (resolving, escaping and filtering ~45 variables
a row). tests/backlog/test_rendering.py renders rows with every kind of
field through both and asserts they are equal, byte for byte: a change to
the template that RowWriter does not follow fails there."""

import unicodedata
from functools import lru_cache
from html import escape
from urllib.parse import quote

from django.template.loader import get_template
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language

from pmhub.templatetags.pmhub_tags import fmt_number

from .models import ItemType, Status

ROW_TEMPLATE = "backlog/_row.html"
TYPE_LABELS = dict(ItemType.choices)
STATUS_LABELS = dict(Status.choices)


def owner_name(username, first_name, last_name) -> str | None:
    """How the User model writes a name (``str(user)``), from the row's columns."""
    if username is None:
        return None
    return f"{first_name} {last_name}".strip() or username


def template_row(row, *, base: str, explainer, custom_fields) -> dict:
    """What ``_row.html`` reads as ``r``: the table row's columns (a
    ``reads.TableRow``) plus what a template cannot compute."""
    explanation = explainer.explain(row)
    custom = row.custom or {}
    return {
        **vars(row),
        "url": f"{base}items/{row.number}/",
        "owner": owner_name(row.owner__username, row.owner__first_name, row.owner__last_name),
        "worked": explanation.worked if explanation else "",
        "missing": explanation.missing if explanation else None,
        "custom_values": [custom.get(str(field.pk)) for field in custom_fields],
    }


def render_row(
    row, *, base, qs, can_edit, can_drag, custom_fields, explainer, conflict=False
) -> SafeString:
    """One row through the template (``RowWriter`` writes the same)."""
    context = {
        "r": template_row(row, base=base, explainer=explainer, custom_fields=custom_fields),
        "qs": qs,
        "can_edit": can_edit,
        "can_drag": can_edit and can_drag,
        "conflict": conflict,
        "type_labels": TYPE_LABELS,
        "status_labels": STATUS_LABELS,
    }
    return SafeString(get_template(ROW_TEMPLATE).render(context))


# --- the fast writer ------------------------------------------------------------------------

_TYPE_LABELS = {value: escape(str(label)) for value, label in ItemType.choices}
_STATUS_LABELS = {value: escape(str(label)) for value, label in Status.choices}
_HANDLE = '<span class="handle" title="Drag to rank" aria-hidden="true">⠿</span>'
_NO_OBJECTIVE = '<span class="muted" title="Linked to no objective">—</span>'
_NO_SCORE = '<span class="muted">—</span>'


def _truncate(text: str, length: int) -> str:
    """``{{ text|truncatechars:length }}``; short texts skip the Truncator."""
    if len(text) <= length:
        return unicodedata.normalize("NFC", text)  # what Truncator returns for them
    return _truncated(text, length, get_language())


@lru_cache(maxsize=1024)
def _truncated(text: str, length: int, language: str | None) -> str:
    # Cached: an epic's title repeats on each of its items' rows. The
    # ellipsis is translated, hence the language in the key.
    return Truncator(text).chars(length)


def _number(value) -> str:
    """``{{ value|fmt_number }}``, escaped."""
    text = fmt_number(value)
    return escape(text if type(text) is str else localize(text))


class RowWriter:
    """Writes rows of the backlog table (``reads.TableRow``) as
    ``_row.html`` does. Every value from the database goes through
    ``escape`` (or a number formatter, then ``escape``); only the fixed
    markup here is not escaped."""

    def __init__(self, *, base, qs, can_edit, can_drag, custom_fields, explainer):
        self.base = escape(base)
        self.can_edit = can_edit
        self.can_drag = can_edit and can_drag
        self.custom_keys = [str(f.pk) for f in custom_fields]
        self.explainer = explainer
        # An editable cell is a button that asks for its editor: <button …{field}{tail}…>.
        self.tail = f'/?{escape(qs)}" hx-target="closest td" hx-swap="innerHTML">'

    def __call__(self, row, *, conflict: bool = False) -> SafeString:
        pk, key = row.id, escape(row.key)
        url = f"{self.base}items/{row.number}/"
        title = escape(row.title)
        effort, value = _number(row.effort), _number(row.value)
        owner = owner_name(row.owner__username, row.owner__first_name, row.owner__last_name)
        owner = "—" if owner is None else escape(owner)
        kind, status = escape(row.type), escape(row.status)
        kind = f'<span class="type type-{kind}">{_TYPE_LABELS.get(row.type, "")}</span>'
        status = (
            f'<span class="badge item-status-{status}">{_STATUS_LABELS.get(row.status, "")}</span>'
        )
        if self.can_edit:
            button = f'<button type="button" class="cell-btn" hx-get="{url}cell/'
            tail = self.tail
            title = f"{button}title{tail}{title}</button>"
            kind = f"{button}type{tail}{kind}</button>"
            status = f"{button}status{tail}{status}</button>"
            effort = f"{button}effort{tail}{effort}</button>"
            value = f"{button}value{tail}{value}</button>"
            owner = f"{button}owner{tail}{owner}</button>"
        if row.parent_id is not None:
            title += (
                f'<div class="small muted">in {escape(row.parent__key)} '
                f"{escape(_truncate(row.parent__title, 30))}</div>"
            )
        if conflict:
            title += (
                f'<div class="conflict small" role="alert">Not saved: someone else changed '
                f"{key} first. This row shows their version.</div>"
            )

        explanation = self.explainer.explain(row)
        if row.score is not None:
            worked = escape(explanation.worked) if explanation else ""
            score = f'<a class="score" href="{url}#score" title="{worked}">{_number(row.score)}</a>'
        elif explanation and explanation.missing:
            names = escape(", ".join(explanation.missing))
            if self.can_edit:
                score = (
                    f'<button type="button" class="cell-btn no-score" hx-get="{url}cell/inputs'
                    f'{self.tail[:-1]} title="Fill in: {names}">needs {names}</button>'
                )
            else:
                score = (
                    f'<a class="no-score" href="{url}#score" title="Missing: {names}">'
                    f"needs {names}</a>"
                )
        else:
            score = _NO_SCORE

        tags = "".join(
            f'<a class="tag" href="?tag={escape(quote(name))}">#{escape(name)}</a> '
            for name in row.tag_names
        )
        objectives = (
            "".join(
                f'<span class="objective-chip" title="{escape(t)}">'
                f"{escape(_truncate(t, 24))}</span> "
                for t in row.objective_titles
            )
            or _NO_OBJECTIVE
        )
        custom = row.custom or {}
        customs = "".join(
            f'<td class="small">{_number(custom.get(k))}</td>\n' for k in self.custom_keys
        )

        lead = moves = ""
        if self.can_edit:
            lead = (
                f'<td class="col-handle">{_HANDLE if self.can_drag else ""}</td>\n'
                f'<td class="col-check"><input type="checkbox" name="items" value="{pk}" '
                f'form="bulk-form" aria-label="Select {key}"></td>\n'
            )
        if self.can_drag:  # they submit the page's one move form
            move = f'<button type="submit" form="move-form" formaction="{url}move/" name="to" '
            label = 'class="btn btn-ghost btn-xs" title="Move'
            moves = (
                '<td class="nowrap row-moves"><span class="inline-form">'
                f'{move}value="top" {label} to top" aria-label="Move {key} to top">⤒</button>'
                f'{move}value="up" {label} up" aria-label="Move {key} up">↑</button>'
                f'{move}value="down" {label} down" aria-label="Move {key} down">↓</button>'
                "</span></td>\n"
            )
        row_class = ' class="has-conflict"' if conflict else ""
        return SafeString(
            f'<tr id="row-{pk}" data-id="{pk}" data-number="{row.number}"{row_class}>\n{lead}'
            f'<td class="mono nowrap"><a href="{url}">{key}</a></td>\n'
            f'<td class="col-title">{title}</td>\n<td>{kind}</td>\n<td>{status}</td>\n'
            f'<td class="num">{score}</td>\n<td class="num">{effort}</td>\n'
            f'<td class="num">{value}</td>\n<td class="nowrap">{owner}</td>\n'
            f'<td>{tags}</td>\n<td class="small">{objectives}</td>\n{customs}{moves}</tr>\n'
        )
