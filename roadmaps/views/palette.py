"""The command palette's roadmap actions (roadmaps/palette.py lists them):
put an item in Now, Next or Later on a Now/Next/Later roadmap, and start such
a roadmap for a product. Both go through the roadmap services."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from backlog.models import Item
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import get_in_workspace, safe_next
from products.models import Product

from .. import services
from ..models import Entry, Horizon, LaneBy, Layout
from .common import error_text, roadmap_of, roadmap_url


@require_POST
@workspace_view(edit=True)
def palette_place(request, pk):
    roadmap = roadmap_of(request, pk)
    item = get_in_workspace(request, Item, key=(request.POST.get("item") or "").upper())
    horizon = request.POST.get("horizon")
    if horizon not in Horizon.values or roadmap.layout != Layout.NOW_NEXT_LATER:
        messages.error(request, "Pick Now, Next or Later on a Now/Next/Later roadmap.")
        return redirect(roadmap_url(roadmap))
    entry = Entry.objects.filter(roadmap=roadmap, item=item).select_related("item").first()
    try:
        if entry is None:
            services.add_entry(request.user, roadmap=roadmap, item=item, horizon=horizon)
        else:
            entry.roadmap = roadmap
            services.update_entry(
                request.user,
                entry=entry,
                expected_version=entry.version,
                fields={"horizon": horizon},
            )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except VersionConflict:
        messages.error(
            request, f"Not moved: someone else changed {item.key} on this roadmap first."
        )
    else:
        messages.success(request, f"{item.key} is in {Horizon(horizon).label} on “{roadmap.name}”.")
    return redirect(safe_next(request, roadmap_url(roadmap)))


@require_POST
@workspace_view(edit=True)
def palette_create(request, key):
    product = get_in_workspace(request, Product, key=key)
    try:
        roadmap = services.create_roadmap(
            request.user,
            workspace=request.workspace,
            product=product,
            name=(request.POST.get("name") or "").strip(),
            layout=Layout.NOW_NEXT_LATER,
            lane_by=LaneBy.NONE,
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect("roadmaps:roadmaps", slug=request.workspace.slug, key=product.key)
    messages.success(request, f"Created “{roadmap.name}”. Open the palette on an item to place it.")
    return redirect(roadmap_url(roadmap))
