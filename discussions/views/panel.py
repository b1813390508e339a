"""The discussion panel (on every commentable object's page) and its
actions: comment, reply, edit, delete, react, watch. Each action calls one
service and answers with the panel again (htmx) or a redirect back."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import Membership
from pmhub.errors import VersionConflict
from pmhub.web import get_in_workspace, int_param, safe_next

from .. import reads, registry, rendering, services
from ..models import EMOJI, MAX_BODY, Comment


def dom_id(label: str, object_id: int) -> str:
    return f"discussion-{label.replace('.', '-')}-{object_id}"


def panel_context(request, label: str, obj, *, errors=None, draft: str = "") -> dict | None:
    kind = registry.get(label)
    if kind is None or not request.user.is_authenticated:
        return None
    workspace = request.workspace
    base = reverse("discussions:thread", args=[workspace.slug, label, obj.pk])
    panel = {
        "label": label,
        "noun": kind.noun,
        "object_id": obj.pk,
        "dom_id": dom_id(label, obj.pk),
        "threads": reads.threads(workspace, label, obj.pk, request.user.pk),
        "can_comment": services.may_comment(workspace, request.role),
        "watching": services.is_watching(request.user, kind, obj),
        "thread_url": base,
        "comment_url": base + "comments/",
        "watch_url": base + "watch/",
        "members_url": reverse("discussions:members", args=[workspace.slug]),
        "comments_base": reverse("discussions:comment-edit", args=[workspace.slug, 0])[
            : -len("0/edit/")
        ],
        "slug": workspace.slug,
        "user_id": request.user.pk,
        "emoji": EMOJI,
        "max_body": MAX_BODY,
        "errors": errors or [],
        "draft": draft,
        "next": request.get_full_path()
        if not request.htmx
        else request.headers.get("HX-Current-URL", base),
    }
    panel["threads_html"] = rendering.threads_html(panel, request)
    return panel


def _answer(request, label, obj, *, errors=None, draft="", status=200):
    """The panel again (htmx) or back to the page the action came from."""
    if request.htmx:
        ctx = panel_context(request, label, obj, errors=errors, draft=draft)
        return render(request, "discussions/_panel.html", {"panel": ctx}, status=status)
    for error in errors or []:
        messages.error(request, error)
    # The forms of the comments carry no "next" (the page is the referrer).
    kind = registry.get(label)
    referer = request.headers.get("Referer", "")
    fallback = kind.url(obj)
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        fallback = referer
    return redirect(safe_next(request, fallback))


def _messages(exc: ValidationError) -> list[str]:
    return exc.messages


@vary_on_headers("HX-Request")
@workspace_view()
def thread(request, label, oid):
    """The discussion of any commentable object on a page of its own (the
    panel alone for htmx: the live refresh and the actions)."""
    kind, obj = registry.find(label, request.workspace, oid)
    ctx = panel_context(request, label, obj)
    if request.htmx:
        template = "discussions/_panel.html"
        if request.GET.get("part") == "list":
            template = "discussions/_panel.html#discussion-list"
        return render(request, template, {"panel": ctx})
    return render(
        request,
        "discussions/thread.html",
        {
            "workspace": request.workspace,
            "panel": ctx,
            "kind": kind,
            "obj": obj,
            "title": kind.title(obj),
            "key": kind.key(obj),
            "object_url": kind.url(obj),
        },
    )


@require_POST
@workspace_view()
def comment_create(request, label, oid):
    _kind, obj = registry.find(label, request.workspace, oid)
    body = request.POST.get("body", "")
    try:
        services.post_comment(
            request.user,
            workspace=request.workspace,
            object_type=label,
            object_id=obj.pk,
            body=body,
            parent_id=int_param(request.POST.get("parent")),
        )
    except ValidationError as exc:
        return _answer(request, label, obj, errors=_messages(exc), draft=body, status=400)
    return _answer(request, label, obj)


def _comment(request, pk) -> Comment:
    return get_in_workspace(request, Comment.objects.select_related("workspace"), pk=pk)


@require_POST
@workspace_view()
def comment_edit(request, pk):
    comment = _comment(request, pk)
    kind, obj = registry.find(comment.object_type, request.workspace, comment.object_id)
    body = request.POST.get("body", "")
    try:
        services.edit_comment(
            request.user,
            comment=comment,
            body=body,
            expected_version=int_param(request.POST.get("version"), comment.version),
        )
    except ValidationError as exc:
        return _answer(request, kind.label, obj, errors=_messages(exc), status=400)
    except VersionConflict:
        error = "This comment changed meanwhile (another tab?): here it is now; edit again."
        return _answer(request, kind.label, obj, errors=[error], status=409)
    return _answer(request, kind.label, obj)


@require_POST
@workspace_view()
def comment_delete(request, pk):
    comment = _comment(request, pk)
    kind, obj = registry.find(comment.object_type, request.workspace, comment.object_id)
    try:
        services.delete_comment(
            request.user,
            comment=comment,
            expected_version=int_param(request.POST.get("version"), comment.version),
        )
    except ValidationError as exc:
        return _answer(request, kind.label, obj, errors=_messages(exc), status=400)
    except VersionConflict:
        error = "This comment changed meanwhile: nothing was deleted; look again."
        return _answer(request, kind.label, obj, errors=[error], status=409)
    return _answer(request, kind.label, obj)


@require_POST
@workspace_view()
def comment_react(request, pk):
    comment = _comment(request, pk)
    kind, obj = registry.find(comment.object_type, request.workspace, comment.object_id)
    try:
        services.toggle_reaction(request.user, comment=comment, emoji=request.POST.get("emoji", ""))
    except ValidationError as exc:
        return _answer(request, kind.label, obj, errors=_messages(exc), status=400)
    return _answer(request, kind.label, obj)


@require_POST
@workspace_view()
def watch(request, label, oid):
    _kind, obj = registry.find(label, request.workspace, oid)
    watching = request.POST.get("watching") == "1"
    services.set_watch(
        request.user,
        workspace=request.workspace,
        object_type=label,
        object_id=obj.pk,
        watching=watching,
    )
    return _answer(request, label, obj)


@workspace_view()
def members(request):
    """Members for @mention autocomplete: ``?q=`` matches the start of a
    username or name (at most 8), as JSON."""
    q = (request.GET.get("q") or "").strip()[:40]
    rows = Membership.objects.filter(workspace=request.workspace).select_related("user")
    if q:
        from django.db.models import Q

        rows = rows.filter(
            Q(user__username__istartswith=q)
            | Q(user__first_name__istartswith=q)
            | Q(user__last_name__istartswith=q)
        )
    found = [
        {"username": m.user.username, "name": m.user.get_full_name()}
        for m in rows.order_by("user__username")[:8]
    ]
    return JsonResponse({"results": found})
