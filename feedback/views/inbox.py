"""The triage inbox: feedback newest first with filters, the detail pane of
the selected piece (suggested items, likely duplicates), and the actions a
PM takes from the keyboard (link, create an item, archive, edit, unlink).
After an action the inbox comes back with the next feedback selected."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from backlog.models import Item
from pmhub import csvimport
from pmhub.accounts.decorators import workspace_view
from pmhub.api.pagination import InvalidCursor
from pmhub.errors import VersionConflict
from pmhub.web import apply_errors, get_in_workspace
from products.models import Product

from .. import demand, panels, reads, services
from ..forms import QuickAddForm
from ..models import Feedback, Importance, Insight, Source, State
from .base import page_context

INBOX = "feedback/inbox.html"
SHORTCUTS = [
    ("j", "Next feedback"),
    ("k", "Previous feedback"),
    ("l", "Link to an item (focus the suggestions)"),
    ("1 / 2 / 3", "Importance: nice to have / important / critical"),
    ("c", "Create a new item from this feedback"),
    ("a", "Archive"),
    ("z", "Undo the archive just done"),
    ("u", "Back to new (un-archive)"),
    ("/", "Search feedback"),
    ("?", "Show these shortcuts"),
    ("Esc", "Close / leave a field"),
]


def inbox_filters(params) -> dict:
    """The inbox's filters from a query: state (new unless given; "all"),
    words, source. Unknown values fall back to the default."""
    state = params.get("state", State.NEW)
    if state not in (*State.values, "all"):
        state = State.NEW
    source = params.get("source", "")
    return {
        "state": state,
        "q": params.get("q", "").strip()[:200],
        "source": source if source in Source.values else "",
    }


def _querystring(filters) -> str:
    return urlencode({k: v for k, v in filters.items() if v not in ("", None)})


def _inbox_context(request, product, *, selected_id=None, after=None) -> dict:
    """Everything the inbox shows, in a constant number of queries."""
    filters = inbox_filters(request.GET)
    try:
        found = reads.inbox(
            product,
            filters=filters,
            cursor=request.GET.get("before") or None,
            selected_id=selected_id,
            after=after,
        )
    except InvalidCursor:
        raise BadRequest("This “older feedback” link is out of date; reload the inbox.") from None
    return {
        **page_context(request, product),
        **found,
        "filters": filters,
        "qs": _querystring(filters),
        "states": State.choices,
        "sources": Source.choices,
        "shortcuts": SHORTCUTS,
        "importances": Importance.choices,
        "quick_form": QuickAddForm(),
        "formula": demand.FORMULA,
        "feedback_panels": panels.panels_for(request, found.get("selected")),
    }


@vary_on_headers("HX-Request")
@workspace_view()
def inbox(request, key):
    product = get_in_workspace(request, Product, key=key)
    selected = request.GET.get("f", "")
    ctx = _inbox_context(
        request, product, selected_id=int(selected) if selected.isdigit() else None
    )
    if request.htmx and request.GET.get("partial") == "detail":
        return render(request, f"{INBOX}#detail", ctx)
    if request.htmx:
        return render(request, f"{INBOX}#inbox", ctx)
    return render(request, INBOX, ctx)


def _feedback(request, product, pk) -> Feedback:
    return get_in_workspace(
        request, Feedback.objects.select_related("product__workspace"), product=product, pk=pk
    )


def _after_action(request, product, handled, *, keep=False, undo=None):
    """Re-render the inbox with the next feedback selected (htmx), or redirect."""
    url = reverse("feedback:feedback-inbox", args=[request.workspace.slug, product.key])
    qs = request.POST.get("qs", "")
    if request.htmx:
        request.GET = request.GET.copy()
        request.GET.update(QueryDict(qs))
        if keep:
            ctx = _inbox_context(request, product, selected_id=handled.pk)
        else:
            ctx = _inbox_context(request, product, after=handled)
        ctx["undo"] = undo
        return render(request, f"{INBOX}#inbox", ctx)
    return redirect(f"{url}?{qs}" if qs else url)


@require_POST
@workspace_view(edit=True)
def quick_add(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = QuickAddForm(request.POST)
    if form.is_valid():
        try:
            feedback = services.create_feedback(request.user, product=product, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Feedback added to the inbox.")
            url = reverse("feedback:feedback-inbox", args=[request.workspace.slug, product.key])
            return redirect(f"{url}?f={feedback.pk}")
    ctx = _inbox_context(request, product)
    ctx["quick_form"] = form
    ctx["quick_open"] = True
    return render(request, INBOX, ctx, status=400)


@require_POST
@workspace_view(edit=True)
def link(request, key, pk):
    """Link the feedback (or the selected snippet) to an item, or create an item from it."""
    product = get_in_workspace(request, Product, key=key)
    feedback = _feedback(request, product, pk)
    importance = request.POST.get("importance", Importance.IMPORTANT)
    start, end = request.POST.get("start"), request.POST.get("end")
    try:
        if request.POST.get("action") == "create":
            insight = services.create_item_from_feedback(
                request.user,
                feedback=feedback,
                title=request.POST.get("title", ""),
                importance=importance,
                start=start,
                end=end,
            )
            messages.success(request, f"Created {insight.item.key} from this feedback.")
        else:
            item_id = request.POST.get("item", "")
            item = (
                Item.objects.filter(product=product, pk=item_id).first()
                if item_id.isdigit()
                else None
            )
            if item is None:
                raise ValidationError({"item": "Choose an item to link."})
            insight = services.link_feedback(
                request.user,
                feedback=feedback,
                item=item,
                importance=importance,
                start=start,
                end=end,
            )
            messages.success(
                request, f"Linked to {item.key} as {insight.get_importance_display()}."
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _after_action(request, product, feedback, keep=True)
    return _after_action(request, product, feedback, keep=request.POST.get("stay") == "1")


@require_POST
@workspace_view(edit=True)
def set_state(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    feedback = _feedback(request, product, pk)
    state = request.POST.get("state", State.ARCHIVED)
    previous = feedback.state
    undoing = request.POST.get("undo") == "1"
    try:
        services.set_feedback_state(request.user, feedback=feedback, state=state)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    label = dict(State.choices)[state].lower()
    messages.success(request, "Archive undone." if undoing else f"Feedback marked {label}.")
    # An archive (a single key away in the inbox) can be taken back from the
    # message that confirms it: the feedback returns to its previous state.
    undo = {"pk": feedback.pk, "state": previous} if state == State.ARCHIVED != previous else None
    return _after_action(request, product, feedback, keep=undoing, undo=undo)


@require_POST
@workspace_view(edit=True)
def edit_feedback(request, key, pk):
    """Correct a piece of feedback's text, source or tags (version-checked)."""
    product = get_in_workspace(request, Product, key=key)
    feedback = _feedback(request, product, pk)
    fields = {
        "text": request.POST.get("text", feedback.text),
        "source": request.POST.get("source", feedback.source),
        "tags": request.POST.get("tags", ""),
    }
    try:
        version = int(request.POST.get("version", feedback.version))
        services.update_feedback(
            request.user, feedback=feedback, expected_version=version, fields=fields
        )
    except VersionConflict:
        messages.error(
            request,
            "Someone else changed this feedback meanwhile; nothing was saved. "
            "Here is their version: apply your change again.",
        )
    except ValidationError as exc:
        messages.error(request, csvimport.errors_text(exc))
    except ValueError:
        messages.error(request, "Bad version.")
    else:
        messages.success(request, "Feedback saved.")
    feedback.refresh_from_db()
    return _after_action(request, product, feedback, keep=True)


@require_POST
@workspace_view(edit=True)
def unlink(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    insight = get_in_workspace(
        request,
        Insight.objects.select_related("feedback__product__workspace", "item"),
        feedback__product=product,
        pk=pk,
    )
    services.delete_insight(request.user, insight=insight)
    messages.success(request, f"Unlinked from {insight.item.key}.")
    if request.POST.get("next") == "item":
        return redirect(
            "backlog:item", slug=request.workspace.slug, key=product.key, number=insight.item.number
        )
    return _after_action(request, product, insight.feedback, keep=True)


@workspace_view()
def item_search(request, key, pk):
    """Items to link, by key or title (the link picker's search box)."""
    product = get_in_workspace(request, Product, key=key)
    feedback = _feedback(request, product, pk)
    q = request.GET.get("q", "").strip()[:100]
    return render(
        request,
        f"{INBOX}#item-results",
        {
            **page_context(request, product),
            "results": reads.items_to_link(product, q),
            "selected": feedback,
            "q": q,
        },
    )
