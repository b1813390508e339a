"""The first-run steps roadmaps owns (pmhub/onboarding.py)."""

from django.urls import reverse

from .models import Roadmap, ShareLink


def has_roadmap(workspace) -> bool:
    return Roadmap.objects.in_workspace(workspace).exists()


def roadmap_url(workspace, product) -> str | None:
    if product is None:
        return None
    return reverse("roadmaps:roadmaps", args=[workspace.slug, product.key]) + "#new-roadmap"


def has_share_link(workspace) -> bool:
    return ShareLink.objects.in_workspace(workspace).exists()


def share_url(workspace, product) -> str | None:
    roadmap = (
        Roadmap.objects.in_workspace(workspace).order_by("created_at", "id").values("pk").first()
    )
    if roadmap is None:
        return None
    return reverse("roadmaps:roadmap-share", args=[workspace.slug, roadmap["pk"]])
