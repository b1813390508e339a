"""Lists of roadmaps: a product's (with the portfolios that include it) and
the workspace's, each with its create form (a portfolio spans products)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from pmhub.accounts.decorators import workspace_view
from pmhub.web import apply_errors, get_in_workspace
from products.models import Product

from .. import services
from ..forms import PortfolioForm, RoadmapForm
from ..models import LaneBy, Layout, Roadmap
from .common import page_context, roadmap_url


@workspace_view()
def product_roadmaps(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = RoadmapForm(
        request.POST or None,
        initial={"layout": Layout.TIMELINE, "lane_by": LaneBy.OBJECTIVE, "periods": 12},
    )
    form.fields["lane_by"].choices = [c for c in LaneBy.choices if c[0] != LaneBy.PRODUCT]
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied("Viewers cannot create roadmaps.")
        if form.is_valid():
            try:
                roadmap = services.create_roadmap(
                    request.user, workspace=request.workspace, product=product, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect(roadmap_url(roadmap))
    return render(
        request,
        "roadmaps/list.html",
        {
            **page_context(request, product=product),
            "roadmaps": Roadmap.objects.filter(product=product).for_list(),
            "portfolios": Roadmap.objects.filter(products=product).for_list(),
            "form": form,
        },
    )


@workspace_view()
def workspace_roadmaps(request):
    form = PortfolioForm(
        request.POST or None,
        workspace=request.workspace,
        initial={"layout": Layout.NOW_NEXT_LATER, "periods": 4, "granularity": "quarter"},
    )
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied("Viewers cannot create roadmaps.")
        if form.is_valid():
            data = dict(form.cleaned_data)
            products = list(data.pop("products"))
            try:
                roadmap = services.create_roadmap(
                    request.user, workspace=request.workspace, products=products, **data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                return redirect(roadmap_url(roadmap))
    roadmaps = (
        Roadmap.objects.in_workspace(request.workspace)
        .for_list()
        .order_by("product__name", "name", "id")
    )
    return render(
        request,
        "roadmaps/workspace.html",
        {**page_context(request), "roadmaps": roadmaps, "form": form},
    )
