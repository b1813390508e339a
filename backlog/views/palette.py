"""The command palette's actions on an item (pmhub/palette.py offers them,
backlog/palette.py lists them): a status or an owner, through
``services.update_item`` at the version the palette was opened with."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import User
from pmhub.errors import VersionConflict
from pmhub.undo import offer_undo
from pmhub.web import get_in_workspace, int_param, safe_next
from products.models import Product

from .. import services, undo
from ..models import REASON_STATUSES
from .common import errors_text, get_item


@require_POST
@workspace_view(edit=True)
def item_set(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    field = request.POST.get("field")
    raw = request.POST.get("value", "")
    fields: dict = {}
    if field == "status":
        fields["status"] = raw
        if raw in REASON_STATUSES:
            fields["status_reason"] = (
                request.POST.get("status_reason") or "Set from the command palette"
            )
    elif field == "owner":
        owner = None
        if raw:
            owner = User.objects.filter(
                pk=int_param(raw, 0), memberships__workspace=request.workspace
            ).first()
            if owner is None:
                messages.error(request, "That person is not a member of this workspace.")
                return redirect(safe_next(request, item_url(request, product, item)))
        fields["owner"] = owner
    else:
        messages.error(request, "Pick a status or an owner.")
        return redirect(safe_next(request, item_url(request, product, item)))
    version = int_param(request.POST.get("version"), item.version)
    before = undo.snapshot([item.pk]) if fields.get("status") in REASON_STATUSES else None
    try:
        services.update_item(request.user, item=item, expected_version=version, fields=fields)
    except ValidationError as exc:
        messages.error(request, errors_text(exc))
    except VersionConflict:
        messages.error(request, f"Not changed: someone else changed {item.key} first.")
    else:
        response = redirect(safe_next(request, item_url(request, product, item)))
        if before:
            return offer_undo(
                request,
                response,
                kind=undo.KIND,
                payload=undo.stamp_versions(before),
                message=f"{item.key} {fields['status']}.",
            )
        messages.success(request, f"{item.key} updated.")
        return response
    return redirect(safe_next(request, item_url(request, product, item)))


def item_url(request, product, item) -> str:
    return reverse("backlog:item", args=[request.workspace.slug, product.key, item.number])
