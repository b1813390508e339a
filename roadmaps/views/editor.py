"""The roadmap page (the editor: board, investment mix, milestones,
dependencies, changes, lanes, settings) and the forms its panels post. The
board's cards are written by ``roadmaps.rendering`` from ``reads.load_board``."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.activity.reads import panel_context
from pmhub.errors import VersionConflict
from pmhub.web import apply_errors, int_param, save_with_conflict

from .. import reads, services
from ..forms import AddEntryForm, LaneForm, MilestoneForm, RoadmapForm
from ..models import Dependency, Horizon, Lane, LaneBy, Layout, Milestone
from ..rendering import CardOptions, cards_html, entry_options_html
from .common import entry_of, error_text, page_context, roadmap_of, roadmap_url


def card_options(roadmap, *, can_edit: bool) -> CardOptions:
    """Cards as members see them: titles open the entry form; editors drag."""
    return CardOptions(
        edit_url=reverse("roadmaps:roadmap-entry", args=[roadmap.workspace.slug, roadmap.pk, 0]),
        draggable=can_edit,
        show_dates=roadmap.layout != Layout.TIMELINE,
    )


def _settings_form(roadmap, data=None) -> RoadmapForm:
    initial = {name: getattr(roadmap, name) for name in services.ROADMAP_FIELDS}
    form = RoadmapForm(data, initial=initial if data is None else None, prefix="settings")
    if roadmap.product_id:  # lanes by product need a portfolio
        form.fields["lane_by"].choices = [c for c in LaneBy.choices if c[0] != LaneBy.PRODUCT]
    return form


def editor_context(request, roadmap) -> dict:
    board = reads.load_board(roadmap)
    slug = request.workspace.slug
    opts = card_options(roadmap, can_edit=request.can_edit)
    timeline = roadmap.layout == Layout.TIMELINE
    for lane in board.lanes:
        for column in lane.columns:
            column.html = mark_safe(cards_html(column.cards, opts, bar=timeline))
    target = roadmap.investment_target or {}
    return {
        **page_context(request, roadmap),
        "board": board,
        "milestone_marks": reads.milestone_marks(roadmap, board),
        "timeline": timeline,
        "unscheduled_html": mark_safe(cards_html(board.unscheduled, opts)),
        "changes": reads.changes_since(roadmap, timezone.now() - dt.timedelta(days=30), limit=12),
        "settings_form": _settings_form(roadmap),
        "add_form": AddEntryForm(initial={"horizon": Horizon.NEXT}),
        "milestone_form": MilestoneForm(),
        "lane_form": LaneForm(),
        "entry_options": mark_safe(entry_options_html(board.cards)),
        "move_url": reverse("roadmaps:roadmap-entry-move", args=[slug, roadmap.pk, 0]),
        "shift_url": reverse("roadmaps:roadmap-entry-shift", args=[slug, roadmap.pk, 0]),
        "target_total": sum(float(v) for v in target.values()),
        "target_rows": [(o, target.get(str(o.pk), "")) for o in board.objectives],
        **panel_context(roadmap),
    }


def _editor_again(request, roadmap, **context):
    """The roadmap page again, with a form as the person typed it."""
    return render(request, "roadmaps/roadmap.html", {**editor_context(request, roadmap), **context})


@vary_on_headers("HX-Request")
@workspace_view()
def roadmap_page(request, pk):
    roadmap = roadmap_of(request, pk)
    context = editor_context(request, roadmap)
    if request.htmx and request.GET.get("partial") == "board":
        return render(request, "roadmaps/roadmap.html#board", context)
    return render(request, "roadmaps/roadmap.html", context)


@workspace_view(edit=True)
@require_POST
def roadmap_settings(request, pk):
    """Save the settings; bad input or a stale version shows the page again
    with the form as typed (and its errors, or the conflict)."""
    roadmap = roadmap_of(request, pk)
    form = _settings_form(roadmap, request.POST)
    result = save_with_conflict(
        form,
        lambda data: services.update_roadmap(
            request.user,
            roadmap=roadmap,
            expected_version=int_param(request.POST.get("version")),
            fields=data,
        ),
        rebase=False,  # the page shows their version; the next save is based on it
    )
    if result.saved:
        messages.success(request, "Roadmap settings saved.")
        return redirect(roadmap_url(roadmap))
    if result.conflicted:
        form.add_error(
            None,
            "Someone changed these settings first; nothing was overwritten. Their version "
            "is on the page; save again to replace it with yours.",
        )
    roadmap = roadmap_of(request, pk)
    return _editor_again(request, roadmap, settings_form=form, open_settings=True)


@workspace_view(edit=True)
@require_POST
def roadmap_delete(request, pk):
    roadmap = roadmap_of(request, pk)
    product = roadmap.product
    try:
        services.delete_roadmap(
            request.user, roadmap=roadmap, expected_version=int_param(request.POST.get("version"))
        )
    except VersionConflict:
        messages.error(request, "Someone changed this roadmap meanwhile; it was not deleted.")
        return redirect(roadmap_url(roadmap))
    messages.success(request, f"Deleted the roadmap “{roadmap.name}”.")
    if product:
        return redirect("roadmaps:roadmaps", request.workspace.slug, product.key)
    return redirect("roadmaps:roadmaps-home", request.workspace.slug)


@workspace_view(edit=True)
@require_POST
def target_set(request, pk):
    roadmap = roadmap_of(request, pk)
    target = {
        name[len("target-") :]: value
        for name, value in request.POST.items()
        if name.startswith("target-") and value.strip()
    }
    try:
        services.set_investment_target(
            request.user,
            roadmap=roadmap,
            expected_version=int_param(request.POST.get("version")),
            target=target,
        )
    except VersionConflict:
        error = "Someone changed this roadmap first; nothing was overwritten. Save again."
    except ValidationError as exc:
        error = "Target split not saved: " + error_text(exc)
    else:
        messages.success(request, "Target investment split saved.")
        return redirect(roadmap_url(roadmap) + "#mix")
    roadmap = roadmap_of(request, pk)
    context = editor_context(request, roadmap)
    context["target_rows"] = [(o, target.get(str(o.pk), "")) for o, _v in context["target_rows"]]
    context["target_error"] = error
    return render(request, "roadmaps/roadmap.html", context)


# --- milestones, dependencies, lanes -----------------------------------------------------------


@workspace_view(edit=True)
@require_POST
def milestone_add(request, pk):
    roadmap = roadmap_of(request, pk)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            services.add_milestone(request.user, roadmap=roadmap, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Added the milestone “{form.cleaned_data['name']}”.")
            return redirect(roadmap_url(roadmap) + "#milestones")
    return _editor_again(request, roadmap, milestone_form=form)


@workspace_view(edit=True)
@require_POST
def milestone_delete(request, pk, mid):
    roadmap = roadmap_of(request, pk)
    milestone = get_object_or_404(Milestone, pk=mid, roadmap=roadmap)
    milestone.roadmap = roadmap
    services.delete_milestone(request.user, milestone=milestone)
    messages.success(request, f"Deleted the milestone “{milestone.name}”.")
    return redirect(roadmap_url(roadmap) + "#milestones")


@workspace_view(edit=True)
@require_POST
def dependency_add(request, pk):
    roadmap = roadmap_of(request, pk)
    blocker = entry_of(roadmap, int_param(request.POST.get("blocker"), 0))
    blocked = entry_of(roadmap, int_param(request.POST.get("blocked"), 0))
    try:
        services.add_dependency(request.user, blocker=blocker, blocked=blocked)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        warning = services.dependency_warning(blocker, blocked)
        messages.success(
            request,
            f"“{blocker.display_title}” now blocks “{blocked.display_title}”."
            + (f" Warning: {warning}" if warning else ""),
        )
    if request.POST.get("back") == "entry":
        return redirect(
            reverse("roadmaps:roadmap-entry", args=[request.workspace.slug, pk, blocked.pk])
        )
    return redirect(roadmap_url(roadmap) + "#dependencies")


@workspace_view(edit=True)
@require_POST
def dependency_delete(request, pk, did):
    roadmap = roadmap_of(request, pk)
    dependency = get_object_or_404(Dependency, pk=did, roadmap=roadmap)
    dependency.roadmap = roadmap
    services.remove_dependency(request.user, dependency=dependency)
    messages.success(request, "Dependency removed.")
    return redirect(roadmap_url(roadmap) + "#dependencies")


@workspace_view(edit=True)
@require_POST
def lane_add(request, pk):
    roadmap = roadmap_of(request, pk)
    try:
        services.add_lane(request.user, roadmap=roadmap, name=request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    return redirect(roadmap_url(roadmap) + "#board")


@workspace_view(edit=True)
@require_POST
def lane_delete(request, pk, lid):
    roadmap = roadmap_of(request, pk)
    lane = get_object_or_404(Lane, pk=lid, roadmap=roadmap)
    lane.roadmap = roadmap
    services.delete_lane(request.user, lane=lane)
    return redirect(roadmap_url(roadmap) + "#board")
