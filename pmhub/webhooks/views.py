"""Workspace settings → Webhooks: owners and admins only; anyone else gets
404 (the pages are not revealed to editors and viewers)."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.api.pagination import InvalidCursor, decode_cursor, encode_cursor
from pmhub.web import apply_errors, get_in_workspace, int_param, save_with_conflict

from . import services
from .event_types import GROUPS
from .forms import EndpointForm, RotateForm
from .models import WebhookDelivery, WebhookEndpoint

PAGE = 25
CURSOR_KEY = "webhooks:deliveries"


def admin_view(view):
    """A workspace page for owners and admins; 404 for everyone else."""

    @workspace_view()
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.can_admin:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


@admin_view
def endpoint_list(request):
    endpoints = WebhookEndpoint.objects.in_workspace(request.workspace).order_by("id")
    return render(
        request,
        "webhooks/list.html",
        {"workspace": request.workspace, "endpoints": endpoints, "form": EndpointForm()},
    )


@admin_view
def endpoint_new(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.create_endpoint(
                request.user,
                workspace=request.workspace,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                event_types=form.cleaned_data["event_types"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Webhook created. Copy its secret now: it is shown once.")
            return _no_store(_detail(request, endpoint, new_secret=secret))
    return render(request, "webhooks/form.html", {"workspace": request.workspace, "form": form})


def _detail(request, endpoint, *, new_secret=None, status=200):
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-id")
    raw = request.GET.get("cursor")
    if raw:
        try:
            (after,) = decode_cursor(raw, CURSOR_KEY, [int])
        except InvalidCursor as exc:
            raise BadRequest("This page link is not valid.") from exc
        deliveries = deliveries.filter(id__lt=after)
    page = list(deliveries[: PAGE + 1])
    next_cursor = encode_cursor(CURSOR_KEY, [page[PAGE - 1].pk]) if len(page) > PAGE else None
    context = {
        "workspace": request.workspace,
        "endpoint": endpoint,
        "deliveries": page[:PAGE],
        "next_cursor": next_cursor,
        "new_secret": new_secret,
        "rotate_form": RotateForm(),
        "groups": GROUPS,
    }
    return render(request, "webhooks/endpoint.html", context, status=status)


@admin_view
def endpoint_detail(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    return _detail(request, endpoint)


@admin_view
def endpoint_edit(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    initial = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
        "version": endpoint.version,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST":

        def save(data):
            return services.update_endpoint(
                request.user,
                endpoint=endpoint,
                expected_version=data.get("version"),
                fields={k: data[k] for k in ("url", "description", "event_types")},
            )

        saved = save_with_conflict(form, save, fallback_version=endpoint.version)
        if saved.saved:
            messages.success(request, "Webhook saved.")
            return redirect("webhooks:endpoint", slug=request.workspace.slug, pk=endpoint.pk)
        form, conflict = saved.form, saved.conflict
        if saved.gone:
            raise Http404("This webhook was deleted.")
    context = {
        "workspace": request.workspace,
        "form": form,
        "endpoint": endpoint,
        "conflict": conflict,
    }
    return render(request, "webhooks/form.html", context, status=409 if conflict else 200)


@require_POST
@admin_view
def endpoint_rotate(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    form = RotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how long the old secret keeps signing.")
        return redirect("webhooks:endpoint", slug=request.workspace.slug, pk=endpoint.pk)
    endpoint, secret = services.rotate_secret(
        request.user, endpoint=endpoint, overlap_seconds=form.cleaned_data["overlap_seconds"]
    )
    messages.success(request, "New secret made. Copy it now: it is shown once.")
    return _no_store(_detail(request, endpoint, new_secret=secret))


@require_POST
@admin_view
def endpoint_enable(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    services.set_enabled(request.user, endpoint=endpoint, enabled=True)
    messages.success(request, "Webhook enabled: waiting deliveries go out now.")
    return redirect("webhooks:endpoint", slug=request.workspace.slug, pk=endpoint.pk)


@require_POST
@admin_view
def endpoint_disable(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    services.set_enabled(request.user, endpoint=endpoint, enabled=False)
    messages.success(request, "Webhook disabled: events are not sent until you enable it.")
    return redirect("webhooks:endpoint", slug=request.workspace.slug, pk=endpoint.pk)


@require_POST
@admin_view
def endpoint_delete(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    services.delete_endpoint(request.user, endpoint=endpoint)
    messages.success(request, f"Webhook {endpoint.url} deleted.")
    return redirect("webhooks:list", slug=request.workspace.slug)


@require_POST
@admin_view
def endpoint_test(request, pk):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    services.send_test(request.user, endpoint=endpoint)
    messages.success(request, "Test event queued: see it in the log below.")
    return redirect("webhooks:endpoint", slug=request.workspace.slug, pk=endpoint.pk)


@require_POST
@admin_view
def delivery_resend(request, pk, delivery):
    endpoint = get_in_workspace(request, WebhookEndpoint, pk=pk)
    row = get_in_workspace(
        request,
        WebhookDelivery.objects.select_related("endpoint__workspace"),
        pk=int_param(delivery),
        endpoint=endpoint,
    )
    services.resend(request.user, delivery=row)
    messages.success(request, f"Delivery {row.msg_id} queued again.")
    return redirect("webhooks:endpoint", slug=request.workspace.slug, pk=endpoint.pk)
