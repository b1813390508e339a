"""An item's page (its form, score explanation, history, children and the
panels other apps add), its deletion, and moves in the manual order."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.errors import DomainError
from pmhub.undo import offer_undo
from pmhub.web import get_in_workspace, save_with_conflict
from products.models import Product

from .. import launch_reviews, reads, scoring, services, undo
from ..forms import ItemDocForm, ItemForm
from ..models import Item, ItemType
from ..panels import panels_for
from ..reads import ScoreExplainer
from .common import backlog_url, get_item, page_context


@vary_on_headers("HX-Request")
@workspace_view()
def item_detail(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    if request.method != "POST":
        return _page(request, product, number)
    if not request.can_edit:
        raise PermissionDenied
    form = _side_form(request, product, item, request.POST)
    return _save(
        request,
        product,
        item,
        form,
        fields=lambda data: form.item_fields(),
        rebind=lambda data, current: _side_form(request, product, current or item, data),
        page={"form": "form", "conflict": "conflict"},
        invalid_status=200,
    )


@require_POST
@workspace_view(edit=True)
def item_doc(request, key, number):
    """Save the title and description edited in place on the item page."""
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    form = ItemDocForm(request.POST)
    return _save(
        request,
        product,
        item,
        form,
        fields=lambda data: {"title": data["title"], "description": data["description"]},
        rebind=lambda data, current: ItemDocForm(data),
        page={"form": "doc_form", "conflict": "doc_conflict"},
        invalid_status=400,
    )


def _save(request, product, item, form, *, fields, rebind, page, invalid_status):
    """The item page's two forms (the side form, the title and description)
    save the same way: versioned, back to the page on success, or the page
    again with the form and the conflict under their own names."""
    result = save_with_conflict(
        form,
        lambda data: services.update_item(
            request.user,
            item=item,
            expected_version=data.get("version") or item.version,
            fields=fields(data),
        ),
        rebind=rebind,
        fallback_version=item.version,
    )
    if result.saved:
        messages.success(request, f"{item.key} saved.")
        return redirect(
            "backlog:item", slug=request.workspace.slug, key=product.key, number=item.number
        )
    return _page(
        request,
        product,
        item.number,
        **{page["form"]: result.form, page["conflict"]: result.conflict},
        status=409 if result.conflicted else invalid_status,
    )


def _side_form(request, product, item, data=None, **kwargs):
    return ItemForm(
        data, instance=item, product=product, workspace=request.workspace, document=False, **kwargs
    )


def _page(request, product, number, *, form=None, doc_form=None, status=200, **flags):
    item = get_item(request, product, number)
    if form is None:
        form = _side_form(request, product, item, initial={"version": item.version})
    if doc_form is None:
        doc_form = ItemDocForm(
            initial={"version": item.version, "title": item.title, "description": item.description}
        )
    explainer = ScoreExplainer(product)
    ctx = {
        **page_context(request, product),
        "item": item,
        "form": form,
        "doc_form": doc_form,
        "conflict": flags.get("conflict"),
        "doc_conflict": flags.get("doc_conflict"),
        "doc_open": doc_form.is_bound,
        "explanation": explainer.explain(item),
        "model": explainer.model,
        "settings": explainer.settings,
        "score_changes": item.score_changes.select_related("actor")[:30],
        "changes": reads.item_changes(item),
        "children": item.children.all().order_by("rank") if item.type == ItemType.EPIC else [],
        "inputs": scoring.INPUTS,
        "panels": panels_for(request, item),
        "launch_review": launch_reviews.review_for_item(item),
    }
    return render(request, "backlog/item.html", ctx, status=status)


@require_POST
@workspace_view(edit=True)
def item_delete(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    snapshot = services.item_snapshot(item)
    services.delete_item(request.user, item=item)
    return offer_undo(
        request,
        redirect(backlog_url(request, product)),
        kind=undo.DELETE_KIND,
        payload=undo.delete_payload(snapshot),
        message=f"Deleted {item.key}.",
    )


@require_POST
@workspace_view(edit=True)
def item_move(request, key, number):
    """Drag and drop (before/after ids) or keyboard moves (to=top|up|down),
    through ``services.move_item`` and friends."""
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
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
    if request.htmx:
        # The page moved the row itself (drag and drop, or the ⤒ ↑ ↓ buttons,
        # which keep their focus so a second press works).
        return HttpResponse(status=204)
    url = backlog_url(request, product)
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
