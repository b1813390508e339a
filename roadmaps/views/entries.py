"""Entries of a roadmap: the backlog-item picker, adding items and free-text
cards, the entry form (the keyboard and form alternative to dragging) and the
JSON endpoints behind drag and drop and keyboard moves."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from backlog.models import Item
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import DomainError, VersionConflict
from pmhub.panels import panels_for
from pmhub.web import int_param, save_with_conflict

from .. import reads, services
from ..forms import AddEntryForm, EntryForm
from ..models import Entry, Horizon, Lane, LaneBy
from .common import entry_of, error_text, form_error_text, page_context, roadmap_of, roadmap_url

PICKER_LIMIT = 20


@workspace_view()
def item_picker(request, pk):
    """The searchable backlog-item picker: items of the roadmap's products
    not yet on it, matching ``q`` (title or key), best ranked first."""
    roadmap = roadmap_of(request, pk)
    q = (request.GET.get("q") or "").strip()
    return render(
        request,
        "roadmaps/_picker.html",
        {
            **page_context(request, roadmap),
            "items": reads.picker_items(roadmap, q)[:PICKER_LIMIT],
            "q": q,
        },
    )


@workspace_view(edit=True)
@require_POST
def entry_add(request, pk):
    roadmap = roadmap_of(request, pk)
    form = AddEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect(roadmap_url(roadmap))
    data = form.cleaned_data
    item = None
    if data["item"]:
        item = Item.objects.filter(
            pk=data["item"], product_id__in=services.roadmap_product_ids(roadmap)
        ).first()
        if item is None:
            raise Http404("No such item in this roadmap's products.")
    try:
        entry = services.add_entry(
            request.user,
            roadmap=roadmap,
            item=item,
            title=data["title"],
            commitment=data["commitment"],
            horizon=data["horizon"] or Horizon.NEXT,
            start_date=data["start_date"],
            end_date=data["end_date"],
        )
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"Added “{entry.display_title}”.")
    return redirect(roadmap_url(roadmap) + "#board")


@workspace_view()
def entry_detail(request, pk, eid):
    """The entry's form: text, commitment, dates or horizon, lane (the
    keyboard and form alternative to dragging), and its dependencies."""
    roadmap = roadmap_of(request, pk)
    entry = entry_of(roadmap, eid)
    lanes = list(roadmap.lanes.all()) if roadmap.lane_by == LaneBy.CUSTOM else []
    conflict = None
    initial = {
        "version": entry.version,
        "title": entry.title,
        "summary": entry.summary,
        "note": entry.note,
        "commitment": entry.commitment,
        "horizon": entry.horizon,
        "start_date": entry.start_date,
        "end_date": entry.end_date,
        "lane": str(entry.lane_id or ""),
    }
    form = EntryForm(request.POST or None, initial=initial, entry=entry, lanes=lanes)
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied("Viewers cannot edit roadmaps.")
        # Keeps what the person typed on a conflict; the next save is based on
        # the current row.
        result = save_with_conflict(form, lambda data: _save_entry(request, entry, lanes, data))
        if result.saved:
            messages.success(request, f"Saved “{entry.display_title}”.")
            return redirect(roadmap_url(roadmap) + f"#entry-{entry.pk}")
        conflict = result.conflict
    return render(
        request,
        "roadmaps/entry.html",
        {
            **page_context(request, roadmap),
            **reads.entry_dependencies(entry),
            "entry": entry,
            "form": form,
            "conflict": conflict,
            "panels": panels_for("roadmaps.entry", request, entry),
        },
    )


def _save_entry(request, entry, lanes, cleaned):
    data = dict(cleaned)
    version = data.pop("version")
    if "lane" in data:
        lane_id = int_param(data["lane"])
        data["lane"] = next((la for la in lanes if la.pk == lane_id), None)
    return services.update_entry(request.user, entry=entry, expected_version=version, fields=data)


def _json_error(exc, status=None):
    data = {"error": getattr(exc, "message", None) or error_text(exc)}
    if isinstance(exc, VersionConflict):
        data["error"] = (
            "Someone changed this entry (or its item) first. Nothing was overwritten; "
            "the board now shows their version."
        )
        status = 412
    return JsonResponse(data, status=status or getattr(exc, "status_code", 400))


@workspace_view(edit=True)
@require_POST
def entry_move(request, pk, eid):
    """Drag and drop (SortableJS) or keyboard: column, lane, neighbours."""
    roadmap = roadmap_of(request, pk)
    entry = entry_of(roadmap, eid)
    post = request.POST
    neighbours = {}
    for name in ("before", "after"):
        value = int_param(post.get(name))
        neighbours[name] = (
            get_object_or_404(Entry, pk=value, roadmap=roadmap) if value is not None else None
        )
    lane = False
    if post.get("lane_key") and roadmap.lane_by not in (LaneBy.CUSTOM, LaneBy.NONE):
        # Derived lanes follow the entry's item: a card dropped in another
        # product's (objective's, tag's) lane used to snap back on reload
        # without a word.
        label = roadmap.get_lane_by_display().lower()
        return _json_error(
            services.BadMove(
                f"Lanes on this roadmap follow each item's {label}: change the {label} "
                "on the item, or switch the roadmap to custom lanes to arrange cards freely."
            )
        )
    if "lane" in post and roadmap.lane_by == LaneBy.CUSTOM:
        lane_id = int_param(post.get("lane"))
        lane = get_object_or_404(Lane, pk=lane_id, roadmap=roadmap) if lane_id else None
    try:
        if post.get("steps"):
            entry = services.move_entry_by(
                request.user,
                entry=entry,
                expected_version=int_param(post.get("version")),
                steps=-1 if post["steps"].startswith("-") else 1,
            )
        else:
            entry = services.move_entry(
                request.user,
                entry=entry,
                expected_version=int_param(post.get("version")),
                column=post.get("column") or None,
                lane=lane,
                item_version=int_param(post.get("item_version")),
                **neighbours,
            )
    except (DomainError, ValidationError) as exc:
        return _json_error(exc)
    entry = Entry.objects.select_related("item").get(pk=entry.pk)
    return JsonResponse(
        {
            "ok": True,
            "version": entry.version,
            "item_version": entry.item.version if entry.item_id else None,
        }
    )


@workspace_view(edit=True)
@require_POST
def entry_shift(request, pk, eid):
    """Timeline drag or arrow keys: move by ``months``, or stretch by ``resize``."""
    roadmap = roadmap_of(request, pk)
    entry = entry_of(roadmap, eid)
    months = int_param(request.POST.get("months"), 0)
    resize = int_param(request.POST.get("resize"), 0)
    if abs(months) > 120 or abs(resize) > 120:
        return JsonResponse({"error": "Move by at most 120 months at a time."}, status=400)
    try:
        entry = services.shift_entry(
            request.user,
            entry=entry,
            expected_version=int_param(request.POST.get("version")),
            months=months,
            resize=resize,
        )
    except (DomainError, ValidationError) as exc:
        return _json_error(exc)
    return JsonResponse(
        {
            "ok": True,
            "version": entry.version,
            "start_date": entry.start_date.isoformat(),
            "end_date": entry.end_date.isoformat(),
        }
    )


@workspace_view(edit=True)
@require_POST
def entry_remove(request, pk, eid):
    roadmap = roadmap_of(request, pk)
    entry = entry_of(roadmap, eid)
    try:
        services.remove_entry(
            request.user, entry=entry, expected_version=int_param(request.POST.get("version"))
        )
    except VersionConflict:
        messages.error(request, "Someone changed this entry first; it was not removed.")
        return redirect(
            reverse("roadmaps:roadmap-entry", args=[request.workspace.slug, roadmap.pk, eid])
        )
    messages.success(request, f"Removed “{entry.display_title}” from the roadmap.")
    return redirect(roadmap_url(roadmap))
