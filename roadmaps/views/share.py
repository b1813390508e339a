"""Share links of a roadmap: the list with each link's views; admins and
owners create and revoke them (the shared page itself is in ``public``)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.web import apply_errors

from .. import services, sharing
from ..forms import ShareLinkForm
from ..models import ShareLink
from .common import page_context, roadmap_of


@workspace_view(edit=True)
def share_links(request, pk):
    """Links of a roadmap with their views; admins create and revoke them."""
    roadmap = roadmap_of(request, pk)
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
        {
            **page_context(request, roadmap),
            "form": form,
            "links": links,
            "created_url": created_url,
        },
    )


@workspace_view(admin=True)
@require_POST
def share_link_revoke(request, pk, lid):
    roadmap = roadmap_of(request, pk)
    link = get_object_or_404(ShareLink, pk=lid, roadmap=roadmap)
    link.roadmap = roadmap
    services.revoke_share_link(request.user, link=link)
    messages.success(request, f"Revoked “{link.label}”: the link now answers 404.")
    return redirect("roadmaps:roadmap-share", request.workspace.slug, roadmap.pk)
