"""HTML views of feedback/: the triage inbox, intake (quick add, CSV
import), customers, portal settings and the item-page panel. Thin: they
parse input, call feedback.services and render. The public portal lives in
portal_views.py."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from backlog.models import Item, Status
from pmhub import csvimport
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import apply_errors, get_in_workspace, save_with_conflict
from products.models import Product

from . import demand, importing, services, similarity
from .forms import CompanyForm, PortalSettingsForm, PublishForm, QuickAddForm
from .models import (
    Company,
    Feedback,
    Importance,
    Insight,
    PublicIdea,
    Segment,
    Source,
    State,
)

PAGE_SIZE = 50
INBOX = "feedback/inbox.html"
SHORTCUTS = [
    ("j", "Next feedback"),
    ("k", "Previous feedback"),
    ("l", "Link to an item (focus the suggestions)"),
    ("1 / 2 / 3", "Importance: nice to have / important / critical"),
    ("c", "Create a new item from this feedback"),
    ("a", "Archive"),
    ("u", "Back to new (un-archive)"),
    ("/", "Search feedback"),
    ("?", "Show these shortcuts"),
    ("Esc", "Close / leave a field"),
]


def _base(request, product, section="feedback") -> dict:
    return {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": section,
    }


_errors_text = csvimport.errors_text


# --- inbox ------------------------------------------------------------------------------------


def _inbox_filters(request) -> dict:
    state = request.GET.get("state", State.NEW)
    if state not in (*State.values, "all"):
        state = State.NEW
    source = request.GET.get("source", "")
    return {
        "state": state,
        "q": request.GET.get("q", "").strip()[:200],
        "source": source if source in Source.values else "",
    }


def _inbox_qs(product, filters):
    qs = Feedback.objects.filter(product=product)
    if filters["state"] != "all":
        qs = qs.filter(state=filters["state"])
    if filters["source"]:
        qs = qs.filter(source=filters["source"])
    if filters["q"]:
        qs = qs.filter(
            Q(text__icontains=filters["q"])
            | Q(person__name__icontains=filters["q"])
            | Q(company__name__icontains=filters["q"])
        )
    return qs


def _querystring(filters, **extra) -> str:
    from urllib.parse import urlencode

    params = {k: v for k, v in {**filters, **extra}.items() if v not in ("", None)}
    return urlencode(params)


def _inbox_context(request, product, *, selected_id=None, after=None) -> dict:
    """Everything the inbox shows, in a constant number of queries."""
    filters = _inbox_filters(request)
    qs = _inbox_qs(product, filters)
    before = request.GET.get("before", "")
    anchor = None
    if before.isdigit():
        anchor = Feedback.objects.filter(product=product, pk=int(before)).first()
    page_qs = qs
    if anchor is not None:
        page_qs = qs.filter(
            Q(received_at__lt=anchor.received_at)
            | Q(received_at=anchor.received_at, pk__lt=anchor.pk)
        )
    rows = list(page_qs.for_inbox().order_by("-received_at", "-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    counts = dict(
        Feedback.objects.filter(product=product)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    selected = None
    if selected_id is None and after is not None:
        # After an action: the row that followed the one just handled (older),
        # or the one before it at the end of the list.
        position = (after.received_at, after.pk)
        later = [r for r in rows if (r.received_at, r.pk) < position]
        earlier = [r for r in rows if (r.received_at, r.pk) > position]
        nxt = later[0] if later else (earlier[-1] if earlier else None)
        selected_id = nxt.pk if nxt is not None else None
    if selected_id is not None:
        selected = next((r for r in rows if r.pk == selected_id), None)
        if selected is None:
            selected = Feedback.objects.filter(product=product, pk=selected_id).for_inbox().first()
    elif rows:
        selected = rows[0]
    ctx = {
        **_base(request, product),
        "rows": rows,
        "more": more,
        "next_before": rows[-1].pk if more and rows else None,
        "filters": filters,
        "qs": _querystring(filters),
        "counts": {s: counts.get(s, 0) for s in State.values},
        "total": sum(counts.values()),
        "states": State.choices,
        "sources": Source.choices,
        "shortcuts": SHORTCUTS,
        "importances": Importance.choices,
        "quick_form": QuickAddForm(),
        "formula": demand.FORMULA,
    }
    ctx.update(_detail_context(product, selected))
    return ctx


def _detail_context(product, feedback) -> dict:
    if feedback is None:
        return {"selected": None}
    insights = list(feedback.insights.select_related("item").order_by("created_at"))
    linked = {i.item_id for i in insights}
    suggestions = [
        s
        for s in similarity.similar_items(feedback.text, product.pk, limit=5 + len(linked))
        if s.pk not in linked
    ][:5]
    recent = Feedback.objects.filter(product=product).exclude(pk=feedback.pk)
    candidates = list(recent.order_by("-received_at").only("id", "text", "state")[:300])
    duplicates = similarity.likely_duplicates(feedback.text, candidates)[:3]
    first_sentence = feedback.text.strip().split("\n")[0].split(". ")[0][:120]
    return {
        "selected": feedback,
        "insights": insights,
        "suggestions": suggestions,
        "duplicates": duplicates,
        "new_title": first_sentence,
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
    return get_object_or_404(
        Feedback.objects.select_related("product__workspace"), product=product, pk=pk
    )


def _after_action(request, product, handled, *, keep=False):
    """Re-render the inbox with the next feedback selected (htmx), or redirect."""
    url = reverse("feedback:feedback-inbox", args=[request.workspace.slug, product.key])
    qs = request.POST.get("qs", "")
    if request.htmx:
        request.GET = request.GET.copy()
        from django.http import QueryDict

        request.GET.update(QueryDict(qs))
        if keep:
            ctx = _inbox_context(request, product, selected_id=handled.pk)
        else:
            ctx = _inbox_context(request, product, after=handled)
        response = render(request, f"{INBOX}#inbox", ctx)
        return response
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
    try:
        services.set_feedback_state(request.user, feedback=feedback, state=state)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    label = dict(State.choices)[state].lower()
    messages.success(request, f"Feedback marked {label}.")
    return _after_action(request, product, feedback)


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
        messages.error(request, _errors_text(exc))
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
    insight = get_object_or_404(
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
    items = []
    if q:
        items = list(
            Item.objects.filter(product=product)
            .filter(Q(title__icontains=q) | Q(key__iexact=q))
            .exclude(status=Status.ARCHIVED)
            .order_by("-score", "id")[:8]
        )
    return render(
        request,
        f"{INBOX}#item-results",
        {**_base(request, product), "results": items, "selected": feedback, "q": q},
    )


@workspace_view()
def export(request, key):
    product = get_in_workspace(request, Product, key=key)
    filters = _inbox_filters(request)
    response = StreamingHttpResponse(
        importing.export_csv(_inbox_qs(product, filters).order_by("-received_at", "-id")),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{product.key}-feedback.csv"'
    return response


# --- CSV import -----------------------------------------------------------------------------


import_start, import_job = csvimport.import_views(
    "feedback.importing.IMPORTER",
    app="feedback",
    urls={"start": "feedback:feedback-import", "job": "feedback:feedback-import-job"},
    product_model=Product,
    context=_base,
)


# --- customers --------------------------------------------------------------------------------


@workspace_view()
def customers(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = CompanyForm(workspace=request.workspace)
    status = 200
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = CompanyForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k not in ("name", "version")}
            try:
                company = services.create_company(
                    request.user,
                    workspace=request.workspace,
                    name=form.cleaned_data["name"],
                    **fields,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Added {company.name}.")
                return redirect(
                    "feedback:feedback-customers", slug=request.workspace.slug, key=product.key
                )
        status = 400
    segment = request.GET.get("segment", "")
    companies = Company.objects.in_workspace(request.workspace).annotate(
        feedback_count=Count("feedback", filter=Q(feedback__product=product), distinct=True),
        people_count=Count("people", distinct=True),
    )
    if segment in Segment.values:
        companies = companies.filter(segment=segment)
    companies = list(companies.select_related("owner").order_by("-annual_revenue", "name")[:500])
    totals = Company.objects.in_workspace(request.workspace).aggregate(
        revenue=Sum("annual_revenue"), n=Count("id")
    )
    return render(
        request,
        "feedback/customers.html",
        {
            **_base(request, product, "customers"),
            "companies": companies,
            "totals": totals,
            "form": form,
            "segments": Segment.choices,
            "segment": segment,
        },
        status=status,
    )


@workspace_view()
def company_detail(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    company = get_in_workspace(request, Company, pk=pk)
    conflict = None
    status = 200
    form = CompanyForm(
        instance=company, workspace=request.workspace, initial={"version": company.version}
    )
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = CompanyForm(request.POST, instance=company, workspace=request.workspace)
        result = save_with_conflict(
            form,
            lambda data: services.update_company(
                request.user,
                company=Company.objects.get(pk=company.pk),
                expected_version=data.get("version") or company.version,
                fields={k: v for k, v in data.items() if k != "version"},
            ),
            rebase=False,  # the page asks to reload before editing their version
        )
        if result.saved:
            messages.success(request, f"{company.name} saved.")
            return redirect(
                "feedback:feedback-company", slug=request.workspace.slug, key=product.key, pk=pk
            )
        conflict = result.conflict
        status = 409 if result.conflicted else 400
    company.refresh_from_db()
    recent = list(
        Feedback.objects.filter(product=product, company=company)
        .select_related("person")
        .order_by("-received_at")[:50]
    )
    people = list(company.people.all()[:100])
    return render(
        request,
        "feedback/company.html",
        {
            **_base(request, product, "customers"),
            "company": company,
            "form": form,
            "conflict": conflict,
            "recent": recent,
            "people": people,
        },
        status=status,
    )


# --- portal settings and public ideas -----------------------------------------------------------


@workspace_view()
def portal_settings(request, key):
    product = get_in_workspace(request, Product, key=key)
    row = services.portal_settings(product)
    weights = row.weights()
    initial = {
        "version": row.version,
        "enabled": row.enabled,
        "title": row.title,
        "intro": row.intro,
        "half_life_days": row.half_life_days,
        **{f"weight_{s}": weights[s] for s in Segment.values},
    }
    form = PortalSettingsForm(initial=initial)
    status = 200
    conflict = False
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = PortalSettingsForm(request.POST)
        result = save_with_conflict(
            form,
            lambda data: services.update_portal_settings(
                request.user,
                product=product,
                expected_version=data.get("version") or row.version,
                fields=form.fields_for_service(),
            ),
            rebase=False,  # the form shows the typed values; saving again re-checks
        )
        if result.saved:
            messages.success(request, "Portal settings saved.")
            return redirect(
                "feedback:feedback-portal-settings", slug=request.workspace.slug, key=key
            )
        conflict = result.conflicted
        status = 409 if result.conflicted else 400
    ideas = list(PublicIdea.objects.for_portal(product).order_by("item__status", "-votes"))
    return render(
        request,
        "feedback/portal_settings.html",
        {
            **_base(request, product),
            "form": form,
            "portal": row,
            "conflict": conflict,
            "ideas": ideas,
            "formula": demand.FORMULA,
            "portal_url": reverse("feedback:portal", args=[request.workspace.slug, product.key]),
        },
        status=status,
    )


@require_POST
@workspace_view(edit=True)
def publish(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_object_or_404(
        Item.objects.select_related("product__workspace"), product=product, number=number
    )
    form = PublishForm(request.POST)
    if request.POST.get("action") == "unpublish":
        idea = PublicIdea.objects.filter(item=item).select_related("product__workspace").first()
        if idea is not None:
            services.unpublish_idea(request.user, idea=idea)
            messages.success(request, f"{item.key} is no longer on the portal.")
    elif form.is_valid():
        try:
            services.publish_idea(request.user, item=item, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, _errors_text(exc))
        else:
            messages.success(request, f"{item.key} is on the portal.")
    else:
        messages.error(request, "Give the idea a public title.")
    url = reverse("backlog:item", args=[request.workspace.slug, product.key, item.number])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


# --- the item page's panel ------------------------------------------------------------------------


def item_panel_context(request, item) -> dict:
    """Context of feedback/_item_insights.html on the backlog item page."""
    ctx = services.item_demand_summary(item)
    idea = PublicIdea.objects.filter(item=item).first()
    ctx.update(
        {
            "item": item,
            "idea": idea,
            "publish_form": PublishForm(
                initial={
                    "public_title": idea.public_title if idea else item.title,
                    "public_description": idea.public_description if idea else "",
                }
            ),
            "can_edit": getattr(request, "can_edit", False),
            "workspace": request.workspace,
            "product": item.product,
        }
    )
    return ctx
