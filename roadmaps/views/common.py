"""What every members' roadmap view needs: the roadmap and entry lookups
(scoped to the request's workspace), the context every page shares and
service errors as one line of text."""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse

from pmhub.web import get_in_workspace

from ..models import Entry, Roadmap


def roadmap_of(request, pk) -> Roadmap:
    return get_in_workspace(request, Roadmap.objects.select_related("product", "workspace"), pk=pk)


def entry_of(roadmap, eid) -> Entry:
    entry = get_object_or_404(Entry.objects.select_related("item", "lane"), pk=eid, roadmap=roadmap)
    entry.roadmap = roadmap
    return entry


def page_context(request, roadmap=None, product=None) -> dict:
    product = product or (roadmap.product if roadmap else None)
    return {
        "workspace": request.workspace,
        "product": product,
        "roadmap": roadmap,
        "can_edit": request.can_edit,
        "can_admin": request.can_admin,
        "section": "roadmaps",
    }


def roadmap_url(roadmap) -> str:
    return reverse("roadmaps:roadmap", args=[roadmap.workspace.slug, roadmap.pk])


def error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def form_error_text(form) -> str:
    return " ".join(
        f"{form.fields[f].label or f}: {' '.join(e)}" if f in form.fields else " ".join(e)
        for f, e in form.errors.items()
    )
