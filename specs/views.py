"""Pages of specs (namespace ``specs``), under an item's
``w/<slug>/p/<key>/backlog/items/<number>/spec/``: the spec with its review
panel, the editor (version-checked), versions and the diff between two,
the Markdown export, and the review actions."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from backlog.models import Item
from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import EDIT_ROLES
from pmhub.errors import VersionConflict
from pmhub.web import apply_errors, get_in_workspace, int_param, save_with_conflict
from products.models import Product

from . import reads, services
from .forms import ReviewRequestForm, SpecForm, VerdictForm
from .models import SECTIONS, Spec, SpecReview, Verdict

PAGE = "specs/spec.html"


def _item(request, key, number) -> Item:
    product = get_in_workspace(request, Product, key=key)
    items = Item.objects.select_related("product__workspace").prefetch_related("objectives")
    return get_in_workspace(request, items, product=product, number=number)


def _spec(item) -> Spec | None:
    return Spec.objects.filter(item=item).first()


def _url(request, item, name="spec") -> str:
    return reverse(f"specs:{name}", args=[request.workspace.slug, item.product.key, item.number])


def _editors(workspace):
    return (
        get_user_model()
        .objects.filter(memberships__workspace=workspace, memberships__role__in=EDIT_ROLES)
        .order_by("first_name", "username")
    )


def _page(
    request,
    item,
    spec,
    *,
    status=200,
    form=None,
    conflict=None,
    verdict_form=None,
    review_form=None,
):
    reviews = reads.reviews_of(spec) if spec else []
    mine = next((r for r in reviews if r.reviewer_id == request.user.pk), None)
    if form is None and request.can_edit:
        form = SpecForm(
            initial={**(spec.sections() if spec else {}), "version": spec.version if spec else None}
        )
    ctx = {
        "workspace": request.workspace,
        "product": item.product,
        "item": item,
        "spec": spec,
        "sections": [(name, label, getattr(spec, name)) for name, label in SECTIONS]
        if spec
        else [],
        "objectives": list(item.objectives.all()),
        "reviews": reviews,
        "my_review": mine,
        "can_edit": request.can_edit,
        "form": form,
        "conflict": conflict,
        "review_form": review_form or ReviewRequestForm(members=_editors(request.workspace)),
        "verdict_form": verdict_form
        or (VerdictForm(initial={"version": spec.version}) if spec and mine else None),
        "section": "backlog",
    }
    return render(request, PAGE, ctx, status=status)


@workspace_view()
def spec_page(request, key, number):
    """The spec (GET); an editor's first save creates it, later saves
    carry the version they started from (POST)."""
    item = _item(request, key, number)
    spec = _spec(item)
    if request.method != "POST":
        return _page(request, item, spec)
    if not request.can_edit:
        raise PermissionDenied
    form = SpecForm(request.POST)
    if spec is None:
        if form.is_valid():
            try:
                services.create_spec(request.user, item=item, **form.sections())
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Spec of {item.key} created.")
                return redirect(_url(request, item))
        return _page(request, item, None, form=form, status=400)
    result = save_with_conflict(
        form,
        lambda _data: services.update_spec(
            request.user,
            spec=spec,
            expected_version=int_param(request.POST.get("version")),
            fields=form.sections(),
        ),
    )
    if result.saved:
        messages.success(request, f"Spec of {item.key} saved (version {result.value.version}).")
        return redirect(_url(request, item))
    current = result.conflict or spec
    return _page(
        request,
        item,
        current,
        form=result.form,
        conflict=result.conflict,
        status=409 if result.conflicted else 400,
    )


@require_POST
@workspace_view(edit=True)
def request_review(request, key, number):
    item = _item(request, key, number)
    spec = _spec(item)
    if spec is None:
        raise Http404("This item has no spec yet.")
    form = ReviewRequestForm(request.POST, members=_editors(request.workspace))
    if form.is_valid():
        try:
            services.request_review(
                request.user, spec=spec, reviewers=[int(i) for i in form.cleaned_data["reviewers"]]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Review requested.")
            return redirect(_url(request, item))
    return _page(request, item, spec, review_form=form, status=400)


@require_POST
@workspace_view()
def decide(request, key, number):
    """A named reviewer's verdict (viewers are never named, so they get 403)."""
    item = _item(request, key, number)
    spec = _spec(item)
    if spec is None:
        raise Http404("This item has no spec yet.")
    if not SpecReview.objects.filter(spec=spec, reviewer=request.user).exists():
        raise PermissionDenied("You were not asked to review this spec.")
    form = VerdictForm(request.POST)
    if form.is_valid():
        try:
            services.decide_review(
                request.user,
                spec=spec,
                verdict=form.cleaned_data["verdict"],
                comment=form.cleaned_data["comment"],
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except VersionConflict:
            form.add_error(
                None,
                "The spec changed since you opened it; read the new version, then decide again.",
            )
            spec.refresh_from_db()
            return _page(request, item, spec, verdict_form=form, status=409)
        else:
            verdict = form.cleaned_data["verdict"]
            messages.success(
                request, "Approved." if verdict == Verdict.APPROVED else "Changes requested."
            )
            return redirect(_url(request, item))
    return _page(request, item, spec, verdict_form=form, status=400)


@workspace_view()
def versions(request, key, number):
    """Every version, and the diff between two (``?from=1&to=3``; by default
    the last two)."""
    item = _item(request, key, number)
    spec = _spec(item)
    if spec is None:
        raise Http404("This item has no spec yet.")
    all_versions = list(
        spec.versions.select_related("author").only(
            "number", "created_at", "author__username", "author__first_name", "author__last_name"
        )
    )
    newest = spec.version
    new = int_param(request.GET.get("to"), newest)
    old = int_param(request.GET.get("from"), max(new - 1, 1))
    diff, error = None, ""
    pair = reads.version_pair(spec, old, new) if old is not None and new is not None else None
    if pair is None:
        error = "Pick two versions of this spec."
    else:
        diff = reads.diff_sections(pair[0].sections, pair[1].sections)
    return render(
        request,
        "specs/versions.html",
        {
            "workspace": request.workspace,
            "product": item.product,
            "item": item,
            "spec": spec,
            "versions": all_versions,
            "old": old,
            "new": new,
            "diff": diff,
            "error": error,
            "section": "backlog",
        },
        status=200 if diff is not None else 400,
    )


@workspace_view()
def export_markdown(request, key, number):
    item = _item(request, key, number)
    spec = _spec(item)
    if spec is None:
        raise Http404("This item has no spec yet.")
    text = reads.as_markdown(
        spec, objectives=list(item.objectives.all()), reviews=reads.reviews_of(spec)
    )
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{item.key}-spec.md"'
    return response


def item_panel_context(request, item) -> dict:
    """Context of specs/_item_panel.html on the item page (registered with
    ``backlog.panels``): the spec's state and its reviews, two queries."""
    spec = Spec.objects.filter(item=item).first()
    return {
        "item": item,
        "spec": spec,
        "reviews": reads.reviews_of(spec) if spec else [],
        "can_edit": getattr(request, "can_edit", False),
    }
