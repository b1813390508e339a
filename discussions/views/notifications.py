"""The bell, the notifications page (mark read, mark all read, filter by
kind, my watched items), email preferences, one-click unsubscribe, and the
workspace's "only editors may comment" setting."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.web import int_param

from .. import reads, services
from ..kinds import KINDS
from ..models import Delivery, DiscussionSettings, Notification

PAGE = 30


@workspace_view()
def bell(request):
    """The bell's count (htmx: on load, every 30 s, and on each live event)."""
    count = services.unread_count(request.user)
    return render(
        request, "discussions/_bell.html", {"unread": count, "workspace": request.workspace}
    )


@vary_on_headers("HX-Request")
@workspace_view()
def notifications(request):
    kind = request.GET.get("kind") or ""
    if kind and kind not in KINDS:
        kind = ""
    show = request.GET.get("show") or "all"
    rows = Notification.objects.of(request.user).filter(workspace=request.workspace)
    if kind:
        rows = rows.filter(kind=kind)
    if show == "unread":
        rows = rows.unread()
    before = int_param(request.GET.get("before"))
    if before:
        rows = rows.filter(pk__lt=before)
    page = list(rows.order_by("-id")[: PAGE + 1])
    more = len(page) > PAGE
    page = page[:PAGE]
    watched = [
        {**w, "title": w["object_title"], "key": w["object_key"]}
        for w in reads.watched_by(request.user, request.workspace)
    ]
    settings_row = DiscussionSettings.objects.filter(workspace=request.workspace).first()
    return render(
        request,
        "discussions/notifications.html",
        {
            "workspace": request.workspace,
            "rows": page,
            "older": page[-1].pk if more else None,
            "kinds": [(k, info.label) for k, info in KINDS.items()],
            "kind": kind,
            "show": show,
            "unread": services.unread_count(request.user),
            "watched": watched,
            "can_admin": request.can_admin,
            "editors_only": bool(settings_row and settings_row.editors_only),
        },
    )


@require_POST
@workspace_view()
def mark_read(request):
    ids = [i for i in (int_param(v) for v in request.POST.getlist("id")) if i]
    services.mark_read(request.user, notification_ids=ids)
    follow = request.POST.get("follow")
    if follow and len(ids) == 1:
        row = Notification.objects.filter(pk=ids[0], recipient=request.user).first()
        if row is not None and row.url.startswith("/"):
            return redirect(row.url)
    return _back(request)


@require_POST
@workspace_view()
def mark_all_read(request):
    kind = request.POST.get("kind") or None
    count = services.mark_all_read(
        request.user, workspace=request.workspace, kind=kind if kind in KINDS else None
    )
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return _back(request)


def _back(request):
    query = request.POST.get("query", "")
    url = reverse("discussions:notifications", args=[request.workspace.slug])
    return redirect(url + ("?" + query if query and "\n" not in query else ""))


@require_POST
@workspace_view(admin=True)
def discussion_settings(request):
    services.set_editors_only(
        request.user,
        workspace=request.workspace,
        editors_only=request.POST.get("editors_only") == "1",
    )
    messages.success(request, "Discussion settings saved.")
    return _back(request)


@login_required
def preferences(request):
    """Per kind: email at once, in the daily digest, or not at all."""
    if request.method == "POST":
        errors = []
        for kind in KINDS:
            value = request.POST.get(kind)
            if value is None:
                continue
            try:
                services.set_preference(request.user, kind=kind, delivery=value)
            except ValidationError as exc:
                errors += exc.messages
        if not errors:
            messages.success(request, "Email preferences saved.")
            return redirect("discussions:preferences")
        for e in errors:
            messages.error(request, e)
    prefs = services.notifications.preferences_of([request.user.pk])
    rows = [
        {
            "kind": k,
            "label": info.label,
            "value": services.notifications.delivery_for(prefs, request.user.pk, k),
        }
        for k, info in KINDS.items()
    ]
    return render(
        request,
        "discussions/preferences.html",
        {"rows": rows, "choices": Delivery.choices, "email": request.user.email},
    )


def unsubscribe(request, token):
    """One-click unsubscribe from one kind of email; works logged out. A GET
    only asks (mail scanners follow links); a POST (the button, or a mail
    client's RFC 8058 one-click) does it."""
    try:
        _user, kind = services.read_unsubscribe_token(token)
    except ValidationError as exc:
        return render(
            request, "discussions/unsubscribe.html", {"error": " ".join(exc.messages)}, status=400
        )
    label = KINDS[kind].label
    if request.method == "POST":
        services.unsubscribe(token)
        return render(request, "discussions/unsubscribe.html", {"done": True, "label": label})
    return render(request, "discussions/unsubscribe.html", {"token": token, "label": label})
