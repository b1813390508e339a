"""HTML views of the backlog: the table, the item page, scoring models,
custom fields. Thin: they parse input, call backlog.services and render."""

import json
import unicodedata
from functools import lru_cache, partial
from html import escape
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import F, Field, Func
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub import csvimport
from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import Membership, User
from pmhub.errors import DomainError, VersionConflict
from pmhub.templatetags.pmhub_tags import fmt_number
from pmhub.web import apply_errors, get_in_workspace, int_param, save_with_conflict
from products.models import Objective, Product

from . import launch_reviews, scoring, services
from .expressions import ObjectiveTitles, TagNames
from .filters import KEYSET_SORTS, SORTS, BacklogQuery
from .forms import (
    CELL_FIELDS,
    SCORING_KIND_HELP,
    BulkForm,
    CustomFieldForm,
    ItemForm,
    QuickAddForm,
    ScoringModelForm,
)
from .models import (
    REASON_STATUSES,
    BacklogSettings,
    CustomField,
    FieldKind,
    Item,
    ItemType,
    SavedView,
    ScoringKind,
    ScoringModel,
    Status,
    Tag,
)
from .panels import panels_for

PAGE_SIZE = 50
LIST = "backlog/list.html"


def _base(request, product, section="backlog") -> dict:
    return {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": section,
    }


class ScoreExplainer:
    """Explains scores of many items with one scoring model loaded once."""

    def __init__(self, product, settings_row=None):
        self.settings = settings_row or services.backlog_of(product)
        self.model = self.settings.active_model
        self.criteria = services.model_criteria(self.model) if self.model else []
        # The custom values the model reads ("cf:<key>" sources); most read none.
        self.custom_sources = [
            (c.source, c.source[3:]) for c in self.criteria if c.source.startswith("cf:")
        ]

    def values(self, item) -> dict:
        """What the model may read: the item's inputs, and the custom values it reads."""
        values = {name: getattr(item, name) for name in scoring.INPUTS}
        if self.custom_sources:
            custom = item.custom or {}
            for source, key in self.custom_sources:
                values[source] = custom.get(key)
        return values

    def explain(self, item) -> scoring.Explanation | None:
        if self.model is None:
            return None
        return scoring.explain(
            self.model.kind,
            self.criteria,
            self.values(item),
            reach_from_demand=self.model.reach_from_demand,
        )


# --- the table's rows ----------------------------------------------------------------------


# What a table row reads from the database; RowWriter writes it.
_ROW_FIELDS = tuple(
    dict.fromkeys(
        [
            "id",
            "number",
            "key",
            "title",
            "type",
            "status",
            "score",
            "rank",
            "updated_at",
            "custom",
            *scoring.INPUTS,
            "parent_id",
            "parent__key",
            "parent__title",
            "owner_id",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        ]
    )
)


class TableRow:
    """A row of the table read with ``.values()`` (no model instances: they
    were most of the cost of reading a page), with the attributes that
    RowWriter, ScoreExplainer and ``BacklogQuery.cursor_for`` read from an Item."""

    def __init__(self, values: dict):
        self.__dict__ = values

    @property
    def pk(self):
        return self.id


def _page_items(product):
    """The backlog table's rows as ``.values()``: the item's columns, its
    owner's and parent's (joins), its tag names and objective titles (one
    column each, see RowList). A page is one query."""
    return Item.objects.filter(product=product).values(
        *_ROW_FIELDS, tag_names=TagNames(), objective_titles=ObjectiveTitles()
    )


def _rows_context(
    request, product, query: BacklogQuery, *, cursor=None, page=1, settings_row=None
) -> dict:
    qs = query.order(query.apply(_page_items(product)))
    if query.sort in KEYSET_SORTS:
        rows = list(query.after(qs, cursor)[: PAGE_SIZE + 1])
    else:
        start = (page - 1) * PAGE_SIZE
        rows = list(qs[start : start + PAGE_SIZE + 1])
    has_more = len(rows) > PAGE_SIZE
    rows = [TableRow(row) for row in rows[:PAGE_SIZE]]
    more_url = None
    if has_more:
        if query.sort in KEYSET_SORTS:
            more_qs = query.querystring(after=query.cursor_for(rows[-1]))
        else:
            more_qs = query.querystring(page=str(page + 1))
        more_url = f"{request.path}?{more_qs}"
    explainer = ScoreExplainer(product, settings_row)
    qs_text = query.querystring()
    _prepare_rows(request, product, query, rows, explainer, qs=qs_text)
    return {
        "rows": rows,
        "more_url": more_url,
        "query": query,
        "qs": qs_text,
        "explainer": explainer,
    }


def _prepare_rows(request, product, query, rows, explainer=None, *, qs=None) -> None:
    """Write each table row's HTML (``item.row_html``, and
    ``item.row_with_conflict`` when the template asks for it) with the
    product's scoring model loaded once. ``rows`` are TableRows or, for one
    row after an edit, Items from ``for_board()``."""
    write = RowWriter(
        base=reverse("backlog:backlog", args=[request.workspace.slug, product.key]),
        qs=query.querystring() if qs is None else qs,
        can_edit=request.can_edit,
        can_drag=query.can_drag,
        custom_fields=query.custom_fields,
        explainer=explainer or ScoreExplainer(product),
    )
    for item in rows:
        item.row_html = write(item)
        item.row_with_conflict = partial(write, item, conflict=True)


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
    """Writes rows of the backlog table as f-strings: what the template
    engine did for ~45 variables a row (resolving, escaping, filters, a form
    with a CSRF token for the ⤒ ↑ ↓ buttons) at a fraction of the cost. The
    ``row`` and ``rows`` partials of backlog/list.html show its output.

    Every value from the database goes through ``escape`` (or a number
    formatter, then ``escape``); only the fixed markup here is not escaped.
    bench/baselines.py writes the same rows with a plain template, and the
    benchmark checks that both are the same, byte for byte."""

    def __init__(self, *, base, qs, can_edit, can_drag, custom_fields, explainer):
        self.base = escape(base)
        self.can_edit = can_edit
        self.can_drag = can_edit and can_drag
        self.custom_keys = [str(f.pk) for f in custom_fields]
        self.explainer = explainer
        # An editable cell is a button that asks for its editor: <button …{field}{tail}…>.
        self.tail = f'/?{escape(qs)}" hx-target="closest td" hx-swap="innerHTML">'

    def __call__(self, item, *, conflict: bool = False) -> SafeString:
        pk, key = item.pk, escape(item.key)
        url = f"{self.base}items/{item.number}/"
        if isinstance(item, Item):  # one row after an edit: an instance from for_board()
            parent = (item.parent.key, item.parent.title) if item.parent_id is not None else None
            owner = str(item.owner) if item.owner_id is not None else None
            tag_names = [tag.name for tag in item.tags.all()]
            titles = [objective.title for objective in item.objectives.all()]
        else:  # a TableRow
            parent = (item.parent__key, item.parent__title) if item.parent_id is not None else None
            owner = None
            if item.owner_id is not None:  # as the User model writes a name
                owner = str(
                    User(
                        username=item.owner__username,
                        first_name=item.owner__first_name,
                        last_name=item.owner__last_name,
                    )
                )
            tag_names, titles = item.tag_names, item.objective_titles

        title = escape(item.title)
        effort, value = _number(item.effort), _number(item.value)
        owner = "—" if owner is None else escape(owner)
        kind, status = escape(item.type), escape(item.status)
        kind = f'<span class="type type-{kind}">{_TYPE_LABELS.get(item.type, kind)}</span>'
        status = (
            f'<span class="badge item-status-{status}">'
            f"{_STATUS_LABELS.get(item.status, status)}</span>"
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
        if parent is not None:
            title += (
                f'<div class="small muted">in {escape(parent[0])} '
                f"{escape(_truncate(parent[1], 30))}</div>"
            )
        if conflict:
            title += (
                f'<div class="conflict small" role="alert">Not saved: someone else changed '
                f"{key} first. This row shows their version.</div>"
            )

        explanation = self.explainer.explain(item)
        if item.score is not None:
            worked = escape(explanation.worked) if explanation else ""
            score = (
                f'<a class="score" href="{url}#score" title="{worked}">{_number(item.score)}</a>'
            )
        elif explanation and explanation.missing:
            missing = explanation.missing
            score = (
                f'<a class="no-score" href="{url}#score" '
                f'title="Missing: {escape(", ".join(missing))}">'
                f"needs {len(missing)} input{'' if len(missing) == 1 else 's'}</a>"
            )
        else:
            score = _NO_SCORE

        tags = "".join(
            f'<a class="tag" href="?tag={escape(quote(name))}">#{escape(name)}</a> '
            for name in tag_names
        )
        objectives = (
            "".join(
                f'<span class="objective-chip" title="{escape(t)}">'
                f"{escape(_truncate(t, 24))}</span> "
                for t in titles
            )
            or _NO_OBJECTIVE
        )
        custom = item.custom or {}
        customs = "".join(
            f'<td class="small">{_number(custom.get(k))}</td>' for k in self.custom_keys
        )

        lead = moves = ""
        if self.can_edit:
            lead = (
                f'<td class="col-handle">{_HANDLE if self.can_drag else ""}</td>'
                f'<td class="col-check"><input type="checkbox" name="items" value="{pk}" '
                f'form="bulk-form" aria-label="Select {key}"></td>'
            )
        if self.can_drag:  # they submit the page's one move form
            move = f'<button type="submit" form="move-form" formaction="{url}move/" name="to" '
            label = 'class="btn btn-ghost btn-xs" title="Move'
            moves = (
                '<td class="nowrap row-moves"><span class="inline-form">'
                f'{move}value="top" {label} to top" aria-label="Move {key} to top">⤒</button>'
                f'{move}value="up" {label} up" aria-label="Move {key} up">↑</button>'
                f'{move}value="down" {label} down" aria-label="Move {key} down">↓</button>'
                "</span></td>"
            )
        row_class = ' class="has-conflict"' if conflict else ""
        return SafeString(
            f'<tr id="row-{pk}" data-id="{pk}" data-number="{item.number}"{row_class}>{lead}'
            f'<td class="mono nowrap"><a href="{url}">{key}</a></td>'
            f'<td class="col-title">{title}</td><td>{kind}</td><td>{status}</td>'
            f'<td class="num">{score}</td><td class="num">{effort}</td>'
            f'<td class="num">{value}</td><td class="nowrap">{owner}</td>'
            f'<td>{tags}</td><td class="small">{objectives}</td>{customs}{moves}</tr>\n'
        )


# --- the page around them ------------------------------------------------------------------


class JsonText(Field):
    """The output field of JsonRows: JSON text, parsed."""

    def get_internal_type(self):
        return "TextField"

    def from_db_value(self, value, expression, connection):
        return [] if value is None else json.loads(value)


class JsonRows(Func):
    """A short list of rows that belong to the outer row, as one JSON array
    of objects in the outer row itself (PostgreSQL ``json_agg``, SQLite
    ``json_group_array``): the backlog page reads the product with its
    objectives, tags, saved views and members in one query, not five.

    ``model``'s rows aliased ``x`` (``join`` may add tables), those where
    ``where`` holds (``%(outer)s`` is the outer row's column), in ``order``;
    ``columns`` names the fields of each object (fields of ``model``)."""

    output_field = JsonText()

    def __init__(self, outer, *, model, columns, where, order, join=""):
        self.model, self.columns, self.join = model, columns, join
        self.where, self.order = where, order
        super().__init__(F(outer))

    def _parts(self, compiler, connection):
        outer, params = compiler.compile(self.source_expressions[0])
        qn = connection.ops.quote_name
        meta = self.model._meta
        columns = [(name, f"x.{qn(meta.get_field(name).column)}") for name in self.columns]
        where = self.where % {"outer": outer}
        return columns, f"FROM {qn(meta.db_table)} x {self.join} WHERE {where}", params

    def as_sql(self, compiler, connection, **extra_context):  # SQLite
        columns, source, params = self._parts(compiler, connection)
        inner = ", ".join(f"{col} AS {name}" for name, col in columns)
        pairs = ", ".join(f"'{name}', {name}" for name, _ in columns)
        sql = f"SELECT {inner} {source} ORDER BY {self.order}"
        return f"(SELECT json_group_array(json_object({pairs})) FROM ({sql}))", params

    def as_postgresql(self, compiler, connection, **extra_context):
        columns, source, params = self._parts(compiler, connection)
        pairs = ", ".join(f"'{name}', {col}" for name, col in columns)
        sql = f"SELECT json_agg(json_build_object({pairs}) ORDER BY {self.order}) {source}"
        return f"COALESCE(({sql}), '[]')::text", params


def _page_lists() -> dict:
    """What the page's filters, bulk-edit bar and saved views list, as
    annotations of the product (see JsonRows), in the orders of the models."""
    membership = Membership._meta.db_table
    return {
        "objective_list": JsonRows(
            "pk",
            model=Objective,
            columns=("id", "title"),
            where="x.product_id = %(outer)s",
            order="x.position, x.id",
        ),
        "tag_list": JsonRows(
            "pk", model=Tag, columns=("name",), where="x.product_id = %(outer)s", order="x.name"
        ),
        "saved_view_list": JsonRows(
            "pk",
            model=SavedView,
            columns=("id", "name", "query"),
            where="x.product_id = %(outer)s",
            order="x.name",
        ),
        "member_list": JsonRows(
            "workspace_id",
            model=User,
            columns=("id", "username", "first_name", "last_name"),
            join=f"JOIN {membership} m ON m.user_id = x.id",
            where="m.workspace_id = %(outer)s",
            order="x.username",
        ),
    }


@vary_on_headers("HX-Request")
@workspace_view()
def backlog_list(request, key):
    page = max(1, int_param(request.GET.get("page"), 1))
    more_rows = request.htmx and (request.GET.get("after") or page > 1)
    # The product with its backlog settings, its scoring model and (for the
    # whole page) the lists its filters show: one query.
    products = Product.objects.select_related("backlog__active_model")
    if not more_rows:
        products = products.annotate(**_page_lists())
    product = get_object_or_404(products, workspace=request.workspace, key=key)
    try:
        settings_row = product.backlog
    except BacklogSettings.DoesNotExist:
        settings_row = None  # created on first use, by ScoreExplainer
    custom_fields = CustomField.objects.filter(product=product)
    query = BacklogQuery.from_params(request.GET, custom_fields)
    ctx = {
        **_base(request, product),
        **_rows_context(
            request,
            product,
            query,
            cursor=request.GET.get("after"),
            page=page,
            settings_row=settings_row,
        ),
    }
    if more_rows:
        return render(request, f"{LIST}#rows", ctx)
    settings_row = ctx["explainer"].settings
    # Unsaved instances holding the columns read (the template reads no other).
    objectives = [Objective(**row) for row in product.objective_list]
    members = [User(**row) for row in product.member_list]
    ctx.update(
        {
            "settings": settings_row,
            "quick_form": QuickAddForm(),
            "statuses": Status.choices,
            "types": ItemType.choices,
            "sorts": list(SORTS.items())
            + [
                (f"-cf{f.pk}", f"{f.name}, high to low")
                for f in custom_fields
                if f.kind == FieldKind.NUMBER
            ],
            "tags": [Tag(**row) for row in product.tag_list],
            "objectives": objectives,
            "members": members,
            "saved_views": [SavedView(**row) for row in product.saved_view_list],
            "custom_fields": custom_fields,
            "select_fields": [f for f in custom_fields if f.kind != FieldKind.DATE],
            "chart": _chart(query.apply(Item.objects.filter(product=product)))
            if request.GET.get("view") == "chart"
            else None,
            "view": "chart" if request.GET.get("view") == "chart" else "table",
        }
    )
    if request.htmx and request.headers.get("HX-Target") == "backlog-results":
        return render(request, f"{LIST}#results", ctx)
    return render(request, LIST, ctx)


# --- the 2x2 chart -------------------------------------------------------------------------


def _chart(qs, limit: int = 400) -> dict:
    """Value versus effort: a server-rendered SVG scatter with four quadrants."""
    points = list(
        qs.filter(value__isnull=False, effort__isnull=False)
        .order_by("rank")
        .values("pk", "number", "key", "title", "value", "effort", "status")[:limit]
    )
    unplotted = (
        qs.filter(value__isnull=True).count()
        + qs.filter(value__isnull=False, effort__isnull=True).count()
    )
    max_effort = max([p["effort"] for p in points] + [1.0])
    width, height, pad = 640, 420, 40
    mid_effort = max_effort / 2
    for p in points:
        # A small deterministic jitter keeps items with equal numbers visible.
        jx, jy = ((p["pk"] * 7919) % 11) - 5, ((p["pk"] * 104729) % 11) - 5
        p["x"] = round(pad + (p["effort"] / max_effort) * (width - 2 * pad) + jx, 1)
        p["y"] = round(height - pad - (p["value"] / 10) * (height - 2 * pad) + jy, 1)
        high_value = p["value"] >= 5
        low_effort = p["effort"] <= mid_effort
        p["quadrant"] = {
            (True, True): "Quick win",
            (True, False): "Big bet",
            (False, True): "Fill-in",
            (False, False): "Money pit",
        }[(high_value, low_effort)]
    counts = {
        q: sum(1 for p in points if p["quadrant"] == q)
        for q in ("Quick win", "Big bet", "Fill-in", "Money pit")
    }
    mid_x, mid_y = width / 2, height / 2
    w, h = mid_x - pad, mid_y - pad
    quads = [
        {"css": "q-quick", "x": pad, "y": pad, "label": f"Quick wins ({counts['Quick win']})"},
        {"css": "q-bet", "x": mid_x, "y": pad, "label": f"Big bets ({counts['Big bet']})"},
        {"css": "q-fill", "x": pad, "y": mid_y, "label": f"Fill-ins ({counts['Fill-in']})"},
        {"css": "q-pit", "x": mid_x, "y": mid_y, "label": f"Money pits ({counts['Money pit']})"},
    ]
    for q in quads:
        q.update(w=w, h=h, tx=q["x"] + 8, ty=q["y"] + 18)
    return {
        "points": points,
        "unplotted": unplotted,
        "width": width,
        "height": height,
        "mid_x": mid_x,
        "mid_y": mid_y,
        "axis_y": height - 10,
        "max_effort": max_effort,
        "quads": quads,
    }


# --- create, edit, move ------------------------------------------------------------------------


@require_POST
@workspace_view(edit=True)
def item_create(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = QuickAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the item a title.")
        return redirect("backlog:backlog", slug=request.workspace.slug, key=product.key)
    item = services.create_item(request.user, product=product, **form.cleaned_data)
    messages.success(request, f"Added {item.key}.")
    url = reverse("backlog:backlog", args=[request.workspace.slug, product.key])
    if request.htmx:
        query = BacklogQuery.from_params(request.GET, CustomField.objects.filter(product=product))
        item = Item.objects.for_board().get(pk=item.pk)
        _prepare_rows(request, product, query, [item])
        ctx = {**_base(request, product), "query": query, "qs": query.querystring(), "item": item}
        response = render(request, f"{LIST}#row", ctx)
        response["HX-Trigger"] = "item-added"
        return response
    return redirect(url)


def _item(request, product, number) -> Item:
    return get_object_or_404(
        Item.objects.select_related("product", "owner", "parent"), product=product, number=number
    )


@vary_on_headers("HX-Request")
@workspace_view()
def item_detail(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = _item(request, product, number)
    form = None
    conflict = None
    status = 200
    if request.method == "POST":
        if not request.can_edit:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = ItemForm(request.POST, instance=item, product=product, workspace=request.workspace)
        result = save_with_conflict(
            form,
            lambda data: services.update_item(
                request.user,
                item=item,
                expected_version=data.get("version") or item.version,
                fields=form.item_fields(),
            ),
            rebind=lambda data, current: ItemForm(
                data, instance=current or item, product=product, workspace=request.workspace
            ),
            fallback_version=item.version,
        )
        if result.saved:
            messages.success(request, f"{item.key} saved.")
            return redirect(
                "backlog:item", slug=request.workspace.slug, key=product.key, number=number
            )
        form, conflict = result.form, result.conflict
        if result.conflicted:
            status = 409
    item = _item(request, product, number)
    if form is None:
        form = ItemForm(
            instance=item,
            product=product,
            workspace=request.workspace,
            initial={"version": item.version},
        )
    explainer = ScoreExplainer(product)
    history = list(
        item.history_records.select_related("history_user").order_by(
            "-history_date", "-history_id"
        )[:50]
    )
    changes = []
    for newer, older in zip(history, [*history[1:], None], strict=False):
        diff = []
        if older is not None:
            delta = newer.diff_against(older)
            diff = [(c.field, c.old, c.new) for c in delta.changes]
        changes.append({"record": newer, "diff": diff})
    ctx = {
        **_base(request, product),
        "item": item,
        "form": form,
        "conflict": conflict,
        "explanation": explainer.explain(item),
        "model": explainer.model,
        "settings": explainer.settings,
        "score_changes": item.score_changes.select_related("actor")[:30],
        "changes": changes,
        "children": item.children.all().order_by("rank") if item.type == ItemType.EPIC else [],
        "inputs": scoring.INPUTS,
        "panels": panels_for(request, item),
        "launch_review": launch_reviews.review_for_item(item),
    }
    return render(request, "backlog/item.html", ctx, status=status)


@vary_on_headers("HX-Request")
@workspace_view(edit=True)
def cell_edit(request, key, number, field):
    """Inline edit of one table cell: GET shows the editor, POST saves and
    returns the row (or the editor with an error, or a conflict)."""
    if field not in CELL_FIELDS:
        raise Http404("Not editable inline.")
    product = get_in_workspace(request, Product, key=key)
    item = _item(request, product, number)
    query = BacklogQuery.from_params(request.GET, CustomField.objects.filter(product=product))
    ctx = {
        **_base(request, product),
        "item": item,
        "field": field,
        "query": query,
        "members": User.objects.filter(memberships__workspace=request.workspace).order_by(
            "username"
        ),
        "statuses": Status.choices,
        "types": ItemType.choices,
    }
    if request.method == "POST":
        raw = request.POST.get("value", "")
        version = int_param(request.POST.get("version"), item.version)
        try:
            value = _parse_cell(request, field, raw)
            extra = {}
            if field == "status" and value in REASON_STATUSES:
                extra["status_reason"] = request.POST.get("status_reason", "")
            services.update_item(
                request.user, item=item, expected_version=version, fields={field: value, **extra}
            )
        except ValidationError as exc:
            ctx["error"] = _errors_text(exc)
            ctx["value"] = raw
            return render(request, f"{LIST}#cell-editor", ctx)
        except VersionConflict as exc:
            ctx["conflict"] = exc.current
        return _render_row(request, product, query, item.pk, ctx)
    if request.GET.get("row"):
        return _render_row(request, product, query, item.pk)
    return render(request, f"{LIST}#cell-editor", ctx)


def _parse_cell(request, field, raw):
    raw = raw.strip()
    if field in ("effort", "value"):
        if raw == "":
            return None
        try:
            return float(raw)
        except ValueError:
            raise ValidationError({field: "Enter a number."}) from None
    if field == "owner":
        if not raw:
            return None
        user = User.objects.filter(pk=raw).first() if raw.isdigit() else None
        if user is None:
            raise ValidationError({"owner": "Choose a member of this workspace."})
        return user  # membership is the service's rule (update_item)
    return raw


def _render_row(request, product, query, pk, ctx=None):
    item = Item.objects.for_board().get(pk=pk)
    _prepare_rows(request, product, query, [item])
    ctx = {
        **(ctx or {}),
        **_base(request, product),
        "item": item,
        "query": query,
        "qs": query.querystring(),
    }
    return render(request, f"{LIST}#row", ctx)


@require_POST
@workspace_view(edit=True)
def item_move(request, key, number):
    """Drag and drop (before/after ids) or keyboard moves (to=top|up|down)."""
    product = get_in_workspace(request, Product, key=key)
    item = _item(request, product, number)
    to = request.POST.get("to")
    try:
        if to == "top":
            services.move_item_to_top(request.user, item=item)
        elif to in ("up", "down"):
            services.move_item_by(request.user, item=item, steps=-1 if to == "up" else 1)
        else:
            before = _neighbour(product, request.POST.get("before"))
            after = _neighbour(product, request.POST.get("after"))
            services.move_item(request.user, item=item, before=before, after=after)
    except DomainError as exc:
        if request.htmx:
            response = HttpResponse(status=409)
            response["HX-Trigger"] = "backlog-reload"
            messages.error(request, exc.message)
            return response
        messages.error(request, exc.message)
    if request.htmx and not to:
        return HttpResponse(status=204)
    url = reverse("backlog:backlog", args=[request.workspace.slug, product.key])
    query = request.POST.get("query", "")
    return redirect(f"{url}?{query}#row-{item.pk}" if query else f"{url}#row-{item.pk}")


def _neighbour(product, raw) -> Item | None:
    if not raw:
        return None
    if not str(raw).isdigit():
        raise services.BadMove("Bad neighbour.")
    item = Item.objects.filter(product=product, pk=int(raw)).first()
    if item is None:
        raise services.BadMove("That neighbour is not in this backlog.")
    return item


@require_POST
@workspace_view(edit=True)
def bulk_edit(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = BulkForm(request.POST, product=product, workspace=request.workspace)
    url = reverse("backlog:backlog", args=[request.workspace.slug, product.key])
    back = f"{url}?{request.POST.get('query', '')}"
    if not form.is_valid():
        messages.error(request, "Select items and a change to apply.")
        return redirect(back)
    data = form.cleaned_data
    try:
        n = services.bulk_update_items(
            request.user,
            product=product,
            item_ids=[i.pk for i in data["items"]],
            status=data["status"] or None,
            status_reason=data["status_reason"],
            owner=data["owner"],
            add_tags=[data["add_tag"]] if data["add_tag"] else [],
            remove_tags=[data["remove_tag"]] if data["remove_tag"] else [],
            add_objective=data["objective"],
        )
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, f"Updated {n} item{'s' if n != 1 else ''}.")
    return redirect(back)


@require_POST
@workspace_view(edit=True)
def item_delete(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = _item(request, product, number)
    services.delete_item(request.user, item=item)
    messages.success(request, f"Deleted {item.key}. Its key will not be reused.")
    return redirect("backlog:backlog", slug=request.workspace.slug, key=product.key)


# --- saved views ---------------------------------------------------------------------------


@require_POST
@workspace_view()
def view_save(request, key):
    product = get_in_workspace(request, Product, key=key)
    try:
        view = services.save_view(
            request.user,
            product=product,
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
        )
    except ValidationError:
        messages.error(request, "Name the view to save it.")
        return redirect("backlog:backlog", slug=request.workspace.slug, key=product.key)
    messages.success(request, f"Saved view “{view.name}”.")
    url = reverse("backlog:backlog", args=[request.workspace.slug, product.key])
    return redirect(f"{url}?{view.query}")


@require_POST
@workspace_view()
def view_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    view = get_object_or_404(SavedView, product=product, pk=pk)
    services.delete_view(request.user, view=view)
    messages.success(request, f"Deleted view “{view.name}”.")
    return redirect("backlog:backlog", slug=request.workspace.slug, key=product.key)


# --- scoring models ------------------------------------------------------------------------


def _sources(product) -> list[tuple[str, str]]:
    sources = [(name, spec.label) for name, spec in scoring.INPUTS.items()]
    sources += [
        (f"cf:{f.pk}", f"{f.name} (custom field)")
        for f in CustomField.objects.filter(product=product, kind=FieldKind.NUMBER)
    ]
    return sources


@workspace_view()
def scoring_page(request, key):
    product = get_in_workspace(request, Product, key=key)
    settings_row = services.backlog_of(product)
    models_ = list(ScoringModel.objects.filter(product=product))
    compare = _compare(request, product, models_)
    return render(
        request,
        "backlog/scoring.html",
        {
            **_base(request, product, "scoring"),
            "settings": settings_row,
            "models": models_,
            "form": ScoringModelForm(),
            "kind_help": SCORING_KIND_HELP,
            "sources": _sources(product),
            "formulas": scoring.FORMULAS,
            "compare": compare,
            "inputs": scoring.INPUTS,
        },
    )


def _compare(request, product, models_, limit=30):
    """Rank the same backlog with two models side by side; who moves up or down."""
    ids = [request.GET.get("a"), request.GET.get("b")]
    by_id = {str(m.pk): m for m in models_}
    if not all(i in by_id for i in ids) or ids[0] == ids[1]:
        return None
    a, b = by_id[ids[0]], by_id[ids[1]]
    rows = scoring.compare_rankings(
        list(
            Item.objects.filter(product=product)
            .open()
            .scored_by(score_a=a, score_b=b)
            .values("pk", "key", "title", "number", "score_a", "score_b")
        )
    )
    return {
        "a": a,
        "b": b,
        "rows": rows[:limit],
        "total": len(rows),
        "unscored_a": sum(1 for r in rows if r["score_a"] is None),
        "unscored_b": sum(1 for r in rows if r["score_b"] is None),
    }


@require_POST
@workspace_view(edit=True)
def scoring_create(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = ScoringModelForm(request.POST)
    if form.is_valid():
        criteria = (
            _criteria_from_post(request)
            if form.cleaned_data["kind"] == ScoringKind.WEIGHTED
            else []
        )
        try:
            model = services.create_scoring_model(
                request.user,
                product=product,
                criteria=criteria,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
            )
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
        else:
            messages.success(request, f"Created scoring model “{model.name}”.")
            url = reverse("backlog:scoring", args=[request.workspace.slug, product.key])
            return redirect(f"{url}#model-{model.pk}")
    else:
        messages.error(request, "Give the model a name and a framework.")
    return redirect("backlog:scoring", slug=request.workspace.slug, key=product.key)


def _criteria_from_post(request) -> list[dict]:
    names = request.POST.getlist("c_name")
    rows = zip(
        names,
        request.POST.getlist("c_source"),
        request.POST.getlist("c_weight"),
        request.POST.getlist("c_min"),
        request.POST.getlist("c_max"),
        request.POST.getlist("c_direction"),
        strict=False,
    )
    return [
        {
            "name": n,
            "source": s,
            "weight": w,
            "min": lo,
            "max": hi,
            "higher_is_better": d != "lower",
        }
        for n, s, w, lo, hi, d in rows
        if n.strip()
    ]


_errors_text = csvimport.errors_text


@require_POST
@workspace_view(edit=True)
def scoring_update(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    model = get_object_or_404(ScoringModel, product=product, pk=pk)
    fields = {"name": request.POST.get("name", model.name)}
    if model.kind == ScoringKind.WEIGHTED:
        fields["criteria"] = _criteria_from_post(request)
    if model.kind == ScoringKind.RICE and "reach_from_demand_form" in request.POST:
        fields["reach_from_demand"] = request.POST.get("reach_from_demand") == "on"
    try:
        version = int(request.POST.get("version", model.version))
        services.update_scoring_model(
            request.user, model=model, expected_version=version, fields=fields
        )
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    except VersionConflict:
        messages.error(
            request,
            "Someone else changed this model first; your change was not saved. "
            "Review their version below and apply yours again.",
        )
    except ValueError:
        messages.error(request, "Bad version.")
    else:
        messages.success(request, f"Saved “{model.name}”.")
    url = reverse("backlog:scoring", args=[request.workspace.slug, product.key])
    return redirect(f"{url}#model-{model.pk}")


@require_POST
@workspace_view(edit=True)
def scoring_activate(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    model = get_object_or_404(ScoringModel, product=product, pk=pk)
    services.activate_scoring_model(request.user, product=product, model=model)
    messages.success(request, f"Scoring with “{model.name}”. Scores are being recomputed.")
    return redirect("backlog:scoring", slug=request.workspace.slug, key=product.key)


@require_POST
@workspace_view(edit=True)
def scoring_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    model = get_object_or_404(ScoringModel, product=product, pk=pk)
    try:
        services.delete_scoring_model(request.user, model=model)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, f"Deleted “{model.name}”.")
    return redirect("backlog:scoring", slug=request.workspace.slug, key=product.key)


@workspace_view()
def recompute_progress(request, key):
    """The progress bar of a background recompute; htmx polls it while pending."""
    product = get_in_workspace(request, Product, key=key)
    settings_row = services.backlog_of(product)
    response = render(
        request, "backlog/_progress.html", {**_base(request, product), "settings": settings_row}
    )
    if not settings_row.recompute_pending and request.GET.get("was") == "pending":
        response["HX-Trigger"] = "scores-updated"
    return response


# --- custom fields -------------------------------------------------------------------------


@workspace_view()
def fields_page(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = CustomFieldForm()
    if request.method == "POST":
        if not request.can_edit:
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = CustomFieldForm(request.POST)
        if form.is_valid():
            try:
                field = services.create_custom_field(
                    request.user, product=product, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"Added field “{field.name}”: it is now a backlog column."
                )
                return redirect(
                    "backlog:custom-fields", slug=request.workspace.slug, key=product.key
                )
    return render(
        request,
        "backlog/fields.html",
        {
            **_base(request, product, "fields"),
            "form": form,
            "fields": CustomField.objects.filter(product=product),
        },
    )


@require_POST
@workspace_view(edit=True)
def field_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    field = get_object_or_404(CustomField, product=product, pk=pk)
    try:
        services.delete_custom_field(request.user, field=field)
    except ValidationError as exc:
        messages.error(request, _errors_text(exc))
    else:
        messages.success(request, f"Deleted field “{field.name}”.")
    return redirect("backlog:custom-fields", slug=request.workspace.slug, key=product.key)


# --- import and export ---------------------------------------------------------------------


@workspace_view()
def export_items(request, key):
    """CSV or JSON of the items the current filters show."""
    from django.http import StreamingHttpResponse

    from . import importing

    product = get_in_workspace(request, Product, key=key)
    custom_fields = list(CustomField.objects.filter(product=product))
    query = BacklogQuery.from_params(request.GET, custom_fields)
    qs = query.order(query.apply(Item.objects.filter(product=product)))
    fmt = request.GET.get("format", "csv")
    stamp = f"{product.key}-backlog"
    if fmt == "json":
        response = StreamingHttpResponse(
            importing.export_json(qs, custom_fields), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="{stamp}.json"'
    else:
        response = StreamingHttpResponse(
            importing.export_csv(qs, custom_fields), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stamp}.csv"'
    return response


import_start, import_job = csvimport.import_views(
    "backlog.importing.IMPORTER",
    app="backlog",
    urls={"start": "backlog:import", "job": "backlog:import-job"},
    product_model=Product,
    context=_base,
)
