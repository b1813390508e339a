"""HTML views of roadmaps for members: lists, the roadmap editor (drag and
drop, keyboard, forms), entries, milestones, dependencies, lanes, the
investment target and share links. Thin: they parse input, call
roadmaps.services and render. The public shared page is in public.py."""

import datetime as dt
from html import escape

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from backlog.models import Item
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import DomainError, VersionConflict
from pmhub.web import apply_errors, get_in_workspace, int_param, save_with_conflict
from products.models import Product

from . import reads, services, sharing
from .cards import CardOptions, cards_html
from .forms import (
    AddEntryForm,
    EntryForm,
    LaneForm,
    MilestoneForm,
    PortfolioForm,
    RoadmapForm,
    ShareLinkForm,
)
from .models import Dependency, Entry, Horizon, Lane, LaneBy, Layout, Milestone, Roadmap, ShareLink

PICKER_LIMIT = 20


def _roadmap(request, pk) -> Roadmap:
    return get_in_workspace(request, Roadmap.objects.select_related("product", "workspace"), pk=pk)


def _entry(roadmap, eid) -> Entry:
    entry = get_object_or_404(Entry.objects.select_related("item", "lane"), pk=eid, roadmap=roadmap)
    entry.roadmap = roadmap
    return entry


def entry_options(cards) -> str:
    """<option>s of the roadmap's entries, written once for both dependency selects."""
    return "".join(
        f'<option value="{c.entry.pk}">{escape(_short(c.entry.display_title))}</option>'
        for c in cards
    )


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _base(request, roadmap=None, product=None) -> dict:
    product = product or (roadmap.product if roadmap else None)
    return {
        "workspace": request.workspace,
        "product": product,
        "roadmap": roadmap,
        "can_edit": request.can_edit,
        "can_admin": request.can_admin,
        "section": "roadmaps",
    }


def _roadmap_url(roadmap) -> str:
    return reverse("roadmaps:roadmap", args=[roadmap.workspace.slug, roadmap.pk])


def _list_rows(qs):
    return qs.select_related("product").annotate(
        entry_count=Count("entries", distinct=True),
        link_count=Count(
            "share_links", filter=Q(share_links__revoked_at__isnull=True), distinct=True
        ),
    )


# --- lists ---------------------------------------------------------------------------------------


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
                return redirect(_roadmap_url(roadmap))
    roadmaps = _list_rows(Roadmap.objects.filter(product=product))
    portfolios = _list_rows(Roadmap.objects.filter(products=product))
    return render(
        request,
        "roadmaps/list.html",
        {
            **_base(request, product=product),
            "roadmaps": roadmaps,
            "portfolios": portfolios,
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
                return redirect(_roadmap_url(roadmap))
    roadmaps = _list_rows(Roadmap.objects.in_workspace(request.workspace)).order_by(
        "product__name", "name", "id"
    )
    return render(
        request,
        "roadmaps/workspace.html",
        {**_base(request), "roadmaps": roadmaps, "form": form},
    )


# --- the roadmap page ---------------------------------------------------------------------


def _editor_context(request, roadmap) -> dict:
    board = reads.load_board(roadmap)
    slug = request.workspace.slug
    opts = CardOptions(
        edit_url=reverse("roadmaps:roadmap-entry", args=[slug, roadmap.pk, 0]),
        draggable=request.can_edit,
        show_dates=roadmap.layout != Layout.TIMELINE,
    )
    timeline = roadmap.layout == Layout.TIMELINE
    for lane in board.lanes:
        for column in lane.columns:
            column.html = mark_safe(cards_html(column.cards, opts, bar=timeline))
    unscheduled_html = mark_safe(cards_html(board.unscheduled, opts))
    changes = reads.changes_since(roadmap, timezone.now() - dt.timedelta(days=30), limit=12)
    for change in changes:
        change.shown_detail = reads.change_detail(change)
    settings_form = RoadmapForm(
        initial={
            "name": roadmap.name,
            "description": roadmap.description,
            "layout": roadmap.layout,
            "lane_by": roadmap.lane_by,
            "granularity": roadmap.granularity,
            "start_date": roadmap.start_date,
            "periods": roadmap.periods,
        },
        prefix="settings",
    )
    if roadmap.product_id:
        settings_form.fields["lane_by"].choices = [
            c for c in LaneBy.choices if c[0] != LaneBy.PRODUCT
        ]
    add_form = AddEntryForm(initial={"horizon": Horizon.NEXT})
    return {
        **_base(request, roadmap),
        "board": board,
        "milestone_marks": reads.milestone_marks(roadmap, board),
        "timeline": timeline,
        "unscheduled_html": unscheduled_html,
        "changes": changes,
        "settings_form": settings_form,
        "add_form": add_form,
        "milestone_form": MilestoneForm(),
        "lane_form": LaneForm(),
        "entry_options": mark_safe(entry_options(board.cards)),
        "move_url": reverse("roadmaps:roadmap-entry-move", args=[slug, roadmap.pk, 0]),
        "shift_url": reverse("roadmaps:roadmap-entry-shift", args=[slug, roadmap.pk, 0]),
        "target_total": sum(float(v) for v in (roadmap.investment_target or {}).values()),
        "target_rows": [
            (o, (roadmap.investment_target or {}).get(str(o.pk), "")) for o in board.objectives
        ],
    }


@vary_on_headers("HX-Request")
@workspace_view()
def roadmap_page(request, pk):
    roadmap = _roadmap(request, pk)
    context = _editor_context(request, roadmap)
    if request.htmx and request.GET.get("partial") == "board":
        return render(request, "roadmaps/roadmap.html#board", context)
    return render(request, "roadmaps/roadmap.html", context)


@workspace_view(edit=True)
@require_POST
def roadmap_settings(request, pk):
    """Save the settings; bad input or a stale version shows the page again
    with the form as typed (and its errors, or the conflict)."""
    roadmap = _roadmap(request, pk)
    form = RoadmapForm(request.POST, prefix="settings")
    if roadmap.product_id:
        form.fields["lane_by"].choices = [c for c in LaneBy.choices if c[0] != LaneBy.PRODUCT]
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
        return redirect(_roadmap_url(roadmap))
    if result.conflicted:
        form.add_error(
            None,
            "Someone changed these settings first; nothing was overwritten. Their version "
            "is on the page; save again to replace it with yours.",
        )
    roadmap = _roadmap(request, pk)
    return _editor_again(request, roadmap, settings_form=form, open_settings=True)


def _editor_again(request, roadmap, **forms):
    """The roadmap page again, with a form as the person typed it."""
    context = _editor_context(request, roadmap)
    context.update(forms)
    return render(request, "roadmaps/roadmap.html", context)


@workspace_view(edit=True)
@require_POST
def roadmap_delete(request, pk):
    roadmap = _roadmap(request, pk)
    product = roadmap.product
    try:
        services.delete_roadmap(
            request.user, roadmap=roadmap, expected_version=int_param(request.POST.get("version"))
        )
    except VersionConflict:
        messages.error(request, "Someone changed this roadmap meanwhile; it was not deleted.")
        return redirect(_roadmap_url(roadmap))
    messages.success(request, f"Deleted the roadmap “{roadmap.name}”.")
    if product:
        return redirect("roadmaps:roadmaps", request.workspace.slug, product.key)
    return redirect("roadmaps:roadmaps-home", request.workspace.slug)


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def _form_messages(form) -> str:
    return " ".join(
        f"{form.fields[f].label or f}: {' '.join(e)}" if f in form.fields else " ".join(e)
        for f, e in form.errors.items()
    )


# --- entries ------------------------------------------------------------------------------------


@workspace_view()
def item_picker(request, pk):
    """The searchable backlog-item picker: items of the roadmap's products
    not yet on it, matching ``q`` (title or key), best ranked first."""
    roadmap = _roadmap(request, pk)
    q = (request.GET.get("q") or "").strip()
    items = (
        Item.objects.filter(product_id__in=services.roadmap_product_ids(roadmap))
        .exclude(roadmap_entries__roadmap=roadmap)
        .select_related("product")
        .order_by("product__name", "rank")
    )
    items = items.filter(Q(title__icontains=q) | Q(key__icontains=q)) if q else items.open()
    return render(
        request,
        "roadmaps/_picker.html",
        {**_base(request, roadmap), "items": items[:PICKER_LIMIT], "q": q},
    )


@workspace_view(edit=True)
@require_POST
def entry_add(request, pk):
    roadmap = _roadmap(request, pk)
    form = AddEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_messages(form))
        return redirect(_roadmap_url(roadmap))
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
        messages.error(request, _messages(exc))
    else:
        messages.success(request, f"Added “{entry.display_title}”.")
    return redirect(_roadmap_url(roadmap) + "#board")


@workspace_view()
def entry_detail(request, pk, eid):
    """The entry's form: text, commitment, dates or horizon, lane (the
    keyboard and form alternative to dragging), and its dependencies."""
    roadmap = _roadmap(request, pk)
    entry = _entry(roadmap, eid)
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
            return redirect(_roadmap_url(roadmap) + f"#entry-{entry.pk}")
        conflict = result.conflict
    deps_in = Dependency.objects.filter(blocked=entry).select_related("blocker__item")
    deps_out = Dependency.objects.filter(blocker=entry).select_related("blocked__item")
    others = (
        Entry.objects.filter(roadmap=roadmap)
        .exclude(pk=entry.pk)
        .select_related("item")
        .order_by("rank")
    )
    warnings = []
    for dep in deps_in:
        dep.blocker.roadmap = roadmap
        message = services.dependency_warning(dep.blocker, entry)
        if message:
            warnings.append(message)
    return render(
        request,
        "roadmaps/entry.html",
        {
            **_base(request, roadmap),
            "entry": entry,
            "form": form,
            "conflict": conflict,
            "deps_in": deps_in,
            "deps_out": deps_out,
            "others": others,
            "warnings": warnings,
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
    data = {"error": getattr(exc, "message", None) or _messages(exc)}
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
    roadmap = _roadmap(request, pk)
    entry = _entry(roadmap, eid)
    post = request.POST
    neighbours = {}
    for name in ("before", "after"):
        value = int_param(post.get(name))
        neighbours[name] = (
            get_object_or_404(Entry, pk=value, roadmap=roadmap) if value is not None else None
        )
    lane = False
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
    roadmap = _roadmap(request, pk)
    entry = _entry(roadmap, eid)
    months, resize = (
        int_param(request.POST.get("months"), 0),
        int_param(request.POST.get("resize"), 0),
    )
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
    roadmap = _roadmap(request, pk)
    entry = _entry(roadmap, eid)
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
    return redirect(_roadmap_url(roadmap))


# --- milestones, dependencies, lanes, target ---------------------------------------------------


@workspace_view(edit=True)
@require_POST
def milestone_add(request, pk):
    roadmap = _roadmap(request, pk)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            services.add_milestone(request.user, roadmap=roadmap, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Added the milestone “{form.cleaned_data['name']}”.")
            return redirect(_roadmap_url(roadmap) + "#milestones")
    return _editor_again(request, roadmap, milestone_form=form)


@workspace_view(edit=True)
@require_POST
def milestone_delete(request, pk, mid):
    roadmap = _roadmap(request, pk)
    milestone = get_object_or_404(Milestone, pk=mid, roadmap=roadmap)
    milestone.roadmap = roadmap
    services.delete_milestone(request.user, milestone=milestone)
    messages.success(request, f"Deleted the milestone “{milestone.name}”.")
    return redirect(_roadmap_url(roadmap) + "#milestones")


@workspace_view(edit=True)
@require_POST
def dependency_add(request, pk):
    roadmap = _roadmap(request, pk)
    blocker = _entry(roadmap, int_param(request.POST.get("blocker"), 0))
    blocked = _entry(roadmap, int_param(request.POST.get("blocked"), 0))
    try:
        services.add_dependency(request.user, blocker=blocker, blocked=blocked)
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    else:
        warning = services.dependency_warning(blocker, blocked)
        messages.success(
            request,
            f"“{blocker.display_title}” now blocks “{blocked.display_title}”."
            + (f" Warning: {warning}" if warning else ""),
        )
    back = request.POST.get("back")
    if back == "entry":
        return redirect(
            reverse("roadmaps:roadmap-entry", args=[request.workspace.slug, pk, blocked.pk])
        )
    return redirect(_roadmap_url(roadmap) + "#dependencies")


@workspace_view(edit=True)
@require_POST
def dependency_delete(request, pk, did):
    roadmap = _roadmap(request, pk)
    dependency = get_object_or_404(Dependency, pk=did, roadmap=roadmap)
    dependency.roadmap = roadmap
    services.remove_dependency(request.user, dependency=dependency)
    messages.success(request, "Dependency removed.")
    return redirect(_roadmap_url(roadmap) + "#dependencies")


@workspace_view(edit=True)
@require_POST
def lane_add(request, pk):
    roadmap = _roadmap(request, pk)
    try:
        services.add_lane(request.user, roadmap=roadmap, name=request.POST.get("name", ""))
    except ValidationError as exc:
        messages.error(request, _messages(exc))
    return redirect(_roadmap_url(roadmap) + "#board")


@workspace_view(edit=True)
@require_POST
def lane_delete(request, pk, lid):
    roadmap = _roadmap(request, pk)
    lane = get_object_or_404(Lane, pk=lid, roadmap=roadmap)
    lane.roadmap = roadmap
    services.delete_lane(request.user, lane=lane)
    return redirect(_roadmap_url(roadmap) + "#board")


@workspace_view(edit=True)
@require_POST
def target_set(request, pk):
    roadmap = _roadmap(request, pk)
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
        error = "Target split not saved: " + _messages(exc)
    else:
        messages.success(request, "Target investment split saved.")
        return redirect(_roadmap_url(roadmap) + "#mix")
    roadmap = _roadmap(request, pk)
    context = _editor_context(request, roadmap)
    context["target_rows"] = [(o, target.get(str(o.pk), "")) for o, _v in context["target_rows"]]
    context["target_error"] = error
    return render(request, "roadmaps/roadmap.html", context)


# --- share links -------------------------------------------------------------------------------


@workspace_view(edit=True)
def share_links(request, pk):
    """Links of a roadmap with their views; admins create and revoke them."""
    roadmap = _roadmap(request, pk)
    form = ShareLinkForm(request.POST or None, initial={"label": f"{roadmap.name} — stakeholders"})
    created_url = None
    if request.method == "POST":
        if not request.can_admin:
            raise PermissionDenied("Only admins and owners create share links.")
        if form.is_valid():
            data = dict(form.cleaned_data)
            data["exclude_tags"] = [t for t in data["exclude_tags"].split(",") if t.strip()]
            try:
                _link, raw = services.create_share_link(request.user, roadmap=roadmap, **data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                created_url = request.build_absolute_uri(
                    reverse("roadmaps:shared-roadmap", args=[raw])
                )
                form = ShareLinkForm(initial={"label": f"{roadmap.name} — stakeholders"})
    links = sharing.with_pending_views(list(roadmap.share_links.select_related("created_by")))
    return render(
        request,
        "roadmaps/share.html",
        {**_base(request, roadmap), "form": form, "links": links, "created_url": created_url},
    )


@workspace_view(admin=True)
@require_POST
def share_link_revoke(request, pk, lid):
    roadmap = _roadmap(request, pk)
    link = get_object_or_404(ShareLink, pk=lid, roadmap=roadmap)
    link.roadmap = roadmap
    services.revoke_share_link(request.user, link=link)
    messages.success(request, f"Revoked “{link.label}”: the link now answers 404.")
    return redirect("roadmaps:roadmap-share", request.workspace.slug, roadmap.pk)
