"""The backlog table: the page (filters, sorts, saved views, the value ×
effort chart), its rows a page at a time, quick add, bulk edit and saved
views. Rows are written by ``backlog.rendering``: the whole page by the fast
writer, a single new row through the row template."""

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import User
from pmhub.undo import offer_undo
from pmhub.web import get_in_workspace
from products.models import Objective, Product

from .. import columns, reads, services, undo
from ..filters import SORTS, BacklogQuery
from ..forms import BulkForm, QuickAddForm
from ..models import CustomField, FieldKind, Item, ItemType, SavedView, Status, Tag
from ..reads import ScoreExplainer, TableRow
from ..rendering import RowWriter, render_row
from .common import LIST, backlog_url, errors_text, page_context

PAGE_SIZE = 50


def _rows_context(request, product, query: BacklogQuery, *, cursor=None, settings_row=None):
    """A page of rows after ``cursor`` (keyset: see BacklogQuery.page),
    written by RowWriter with the product's scoring model loaded once."""
    rows, after = query.page(query.apply(reads.table_rows(product)), cursor, PAGE_SIZE)
    explainer = ScoreExplainer(product, settings_row)
    qs = query.querystring()
    write = RowWriter(
        base=backlog_url(request, product),
        qs=qs,
        can_edit=request.can_edit,
        can_drag=query.can_drag,
        custom_fields=query.custom_fields,
        explainer=explainer,
    )
    return {
        "rows": [write(TableRow(row)) for row in rows],
        "more_url": f"{request.path}?{query.querystring(after=after)}" if after else None,
        "query": query,
        "qs": qs,
        "explainer": explainer,
    }


def row_response(request, product, query: BacklogQuery, pk: int, *, conflict=False):
    """One row of the table through its template (after an edit or a quick
    add); nothing, and a reload of the table, if someone deleted the item."""
    values = reads.table_rows(product).filter(pk=pk).first()
    if values is None:
        response = HttpResponse("")
        response["HX-Trigger"] = "backlog-reload"
        return response
    html = render_row(
        TableRow(values),
        base=backlog_url(request, product),
        qs=query.querystring(),
        can_edit=request.can_edit,
        can_drag=query.can_drag,
        custom_fields=query.custom_fields,
        explainer=ScoreExplainer(product),
        conflict=conflict,
    )
    return HttpResponse(html)


@vary_on_headers("HX-Request")
@workspace_view()
def backlog_list(request, key):
    more_rows = bool(request.htmx and request.GET.get("after"))
    # The product with its backlog settings, its scoring model and (for the
    # whole page) the lists its filters show: one query.
    products = reads.backlog_products(lists=not more_rows)
    product = get_in_workspace(request, products, key=key)
    custom_fields = CustomField.objects.filter(product=product)
    query = BacklogQuery.from_params(request.GET, custom_fields)
    ctx = {
        **page_context(request, product),
        **_rows_context(
            request, product, query, cursor=request.GET.get("after"), settings_row=product.backlog
        ),
    }
    if more_rows:
        return render(request, f"{LIST}#rows", ctx)
    chart = request.GET.get("view") == "chart"
    # Unsaved instances holding the columns read (the template reads no other).
    ctx.update(
        {
            "settings": product.backlog,
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
            "objectives": [Objective(**row) for row in product.objective_list],
            "members": [User(**row) for row in product.member_list],
            "saved_views": [SavedView(**row) for row in product.saved_view_list],
            "custom_fields": custom_fields,
            "select_fields": [f for f in custom_fields if f.kind != FieldKind.DATE],
            "chart": reads.value_effort_chart(query.apply(Item.objects.filter(product=product)))
            if chart
            else None,
            "view": "chart" if chart else "table",
        }
    )
    cols = columns.columns(request.GET, custom_fields, can_edit=request.can_edit)
    ctx.update(
        columns=cols,
        hidden_columns=columns.hidden_positions(cols),
        filter_chips=columns.filter_chips(
            query, objectives=ctx["objectives"], members=ctx["members"]
        ),
    )
    if request.htmx and request.headers.get("HX-Target") == "backlog-results":
        return render(request, f"{LIST}#results", ctx)
    return render(request, LIST, ctx)


@require_POST
@workspace_view(edit=True)
def item_create(request, key):
    """Quick add: a new item at the top of the manual order; htmx gets its row."""
    product = get_in_workspace(request, Product, key=key)
    form = QuickAddForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            # The message goes to the form's status line; the table is left
            # alone (a redirect here used to swap a whole page into it). 200:
            # htmx swaps no 4xx answer.
            response = HttpResponse(form.first_error())
            response["HX-Retarget"] = "#quick-add-status"
            response["HX-Reswap"] = "innerHTML"
            return response
        messages.error(request, form.first_error())
        return redirect(backlog_url(request, product))
    query = BacklogQuery.from_params(request.GET, CustomField.objects.filter(product=product))
    with transaction.atomic():
        item = services.create_item(request.user, product=product, **form.cleaned_data)
        # Where the PM is looking: the top of the manual order, where the row
        # is shown (the table's order and the ranking agree). Under a sort or
        # a filter the row is still shown on top, and ranked last.
        on_top = query.can_drag
        if on_top:
            item = services.move_item_to_top(request.user, item=item)
    if request.htmx:
        response = row_response(request, product, query, item.pk)
        added = {"item-added": {"key": item.key, "id": item.pk, "top": on_top}}
        response["HX-Trigger-After-Settle"] = json.dumps(added)
        return response
    messages.success(request, f"Added {item.key}.")
    return redirect(backlog_url(request, product))


@require_POST
@workspace_view(edit=True)
def bulk_edit(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = BulkForm(request.POST, product=product, workspace=request.workspace)
    back = f"{backlog_url(request, product)}?{request.POST.get('query', '')}"
    if not form.is_valid():
        messages.error(request, "Select items and a change to apply.")
        return redirect(back)
    data = form.cleaned_data
    before = undo.snapshot(i.pk for i in data["items"])
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
        messages.error(request, errors_text(exc))
    else:
        return offer_undo(
            request,
            redirect(back),
            kind=undo.KIND,
            payload=undo.stamp_versions(before),
            message=f"Updated {n} item{'s' if n != 1 else ''}.",
        )
    return redirect(back)


# --- saved views ---------------------------------------------------------------------------


def _view_query(raw: str, product) -> str:
    """The filters and sort a saved view keeps: through the query parser (no
    cursor), without the empty fields a filter form sends."""
    params = QueryDict(raw, mutable=True)
    for name in list(params):
        values = [v for v in params.getlist(name) if v.strip()]
        if values:
            params.setlist(name, values)
        else:
            del params[name]
    return BacklogQuery.from_params(
        params, CustomField.objects.filter(product=product)
    ).querystring()


@require_POST
@workspace_view()
def view_save(request, key):
    product = get_in_workspace(request, Product, key=key)
    try:
        view = services.save_view(
            request.user,
            product=product,
            name=request.POST.get("name", ""),
            query=_view_query(request.POST.get("query", ""), product),
        )
    except ValidationError:
        messages.error(request, "Name the view to save it.")
        return redirect(backlog_url(request, product))
    messages.success(request, f"Saved view “{view.name}”.")
    return redirect(f"{backlog_url(request, product)}?{view.query}")


@require_POST
@workspace_view()
def view_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    view = get_object_or_404(SavedView, product=product, pk=pk)
    services.delete_view(request.user, view=view)
    messages.success(request, f"Deleted view “{view.name}”.")
    return redirect(backlog_url(request, product))
