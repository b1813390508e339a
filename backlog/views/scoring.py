"""The scoring page: the product's scoring models (create, edit weights,
activate, delete), two models' rankings side by side, and the progress of a
background rescore."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import get_in_workspace
from products.models import Product

from .. import reads, scoring, services
from ..forms import SCORING_KIND_HELP, ScoringModelForm
from ..models import BacklogSettings, ScoringKind, ScoringModel
from .common import errors_text, page_context


@workspace_view()
def scoring_page(request, key):
    product = get_in_workspace(request, Product, key=key)
    settings_row = BacklogSettings.objects.of(product)
    models_ = list(ScoringModel.objects.filter(product=product))
    pair = [request.GET.get("a"), request.GET.get("b")]
    by_id = {str(m.pk): m for m in models_}
    compare = None
    if all(i in by_id for i in pair) and pair[0] != pair[1]:
        compare = reads.compare_models(product, by_id[pair[0]], by_id[pair[1]])
    return render(
        request,
        "backlog/scoring.html",
        {
            **page_context(request, product, "scoring"),
            "settings": settings_row,
            "models": models_,
            "form": ScoringModelForm(),
            "kind_help": SCORING_KIND_HELP,
            "sources": reads.score_sources(product),
            "formulas": scoring.FORMULAS,
            "compare": compare,
            "inputs": scoring.INPUTS,
        },
    )


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
            messages.error(request, errors_text(exc))
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


@require_POST
@workspace_view(edit=True)
def scoring_update(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    model = get_in_workspace(request, ScoringModel, product=product, pk=pk)
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
        messages.error(request, errors_text(exc))
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
    model = get_in_workspace(request, ScoringModel, product=product, pk=pk)
    services.activate_scoring_model(request.user, product=product, model=model)
    messages.success(request, f"Scoring with “{model.name}”. Scores are being recomputed.")
    return redirect("backlog:scoring", slug=request.workspace.slug, key=product.key)


@require_POST
@workspace_view(edit=True)
def scoring_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    model = get_in_workspace(request, ScoringModel, product=product, pk=pk)
    try:
        services.delete_scoring_model(request.user, model=model)
    except ValidationError as exc:
        messages.error(request, errors_text(exc))
    else:
        messages.success(request, f"Deleted “{model.name}”.")
    return redirect("backlog:scoring", slug=request.workspace.slug, key=product.key)


@workspace_view()
def recompute_progress(request, key):
    """The progress bar of a background recompute; htmx polls it while pending."""
    product = get_in_workspace(request, Product, key=key)
    settings_row = BacklogSettings.objects.of(product)
    response = render(
        request,
        "backlog/_progress.html",
        {**page_context(request, product), "settings": settings_row},
    )
    if not settings_row.recompute_pending and request.GET.get("was") == "pending":
        response["HX-Trigger"] = "scores-updated"
    return response
