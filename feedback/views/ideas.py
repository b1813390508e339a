"""What a product shows on its public portal: the portal settings (which
also weigh customer demand), publishing a backlog item as an idea, and the
feedback panel of the backlog item page."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from backlog.models import Item
from pmhub import csvimport
from pmhub.accounts.decorators import workspace_view
from pmhub.web import get_in_workspace, save_with_conflict
from products.models import Product

from .. import demand, reads, services
from ..forms import PortalSettingsForm, PublishForm
from ..models import PublicIdea, Segment
from .base import page_context


@workspace_view()
def portal_settings(request, key):
    product = get_in_workspace(request, Product, key=key)
    row = reads.portal_settings(product)
    weights = row.weights()
    initial = {
        "version": row.version,
        "enabled": row.enabled,
        "title": row.title,
        "intro": row.intro,
        "half_life_days": row.half_life_days,
        **{f"weight_{s}": weights[s] for s in Segment.values},
    }
    form = PortalSettingsForm(initial=initial)
    status = 200
    conflict = False
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = PortalSettingsForm(request.POST)
        result = save_with_conflict(
            form,
            lambda data: services.update_portal_settings(
                request.user,
                product=product,
                expected_version=data.get("version") or row.version,
                fields=form.fields_for_service(),
            ),
            rebase=False,  # the form shows the typed values; saving again re-checks
        )
        if result.saved:
            messages.success(request, "Portal settings saved.")
            return redirect(
                "feedback:feedback-portal-settings", slug=request.workspace.slug, key=key
            )
        conflict = result.conflicted
        status = 409 if result.conflicted else 400
    ideas = list(PublicIdea.objects.for_portal(product).order_by("item__status", "-votes"))
    return render(
        request,
        "feedback/portal_settings.html",
        {
            **page_context(request, product),
            "form": form,
            "portal": row,
            "conflict": conflict,
            "ideas": ideas,
            "formula": demand.FORMULA,
            "portal_url": reverse("feedback:portal", args=[request.workspace.slug, product.key]),
        },
        status=status,
    )


@require_POST
@workspace_view(edit=True)
def publish(request, key, number):
    product = get_in_workspace(request, Product, key=key)
    item = get_in_workspace(
        request, Item.objects.select_related("product__workspace"), product=product, number=number
    )
    form = PublishForm(request.POST)
    if request.POST.get("action") == "unpublish":
        idea = PublicIdea.objects.filter(item=item).select_related("product__workspace").first()
        if idea is not None:
            services.unpublish_idea(request.user, idea=idea)
            messages.success(request, f"{item.key} is no longer on the portal.")
    elif form.is_valid():
        try:
            services.publish_idea(request.user, item=item, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, csvimport.errors_text(exc))
        else:
            messages.success(request, f"{item.key} is on the portal.")
    else:
        messages.error(request, "Give the idea a public title.")
    url = reverse("backlog:item", args=[request.workspace.slug, product.key, item.number])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def item_panel_context(request, item) -> dict:
    """Context of feedback/_item_insights.html on the backlog item page
    (registered with ``backlog.panels`` in ``FeedbackConfig.ready``)."""
    ctx = reads.item_panel(item)
    idea = ctx["idea"]
    return {
        **ctx,
        "item": item,
        "publish_form": PublishForm(
            initial={
                "public_title": idea.public_title if idea else item.title,
                "public_description": idea.public_description if idea else "",
            }
        ),
        "can_edit": getattr(request, "can_edit", False),
        "workspace": request.workspace,
        "product": item.product,
    }
