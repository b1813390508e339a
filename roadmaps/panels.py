"""The "On roadmaps" panel of the backlog item page (backlog/panels.py)."""

from django.urls import reverse

from .dates import format_date
from .models import Entry


def item_roadmaps(request, item) -> dict | None:
    """Where the item sits on roadmaps of its workspace: one query."""
    entries = list(
        Entry.objects.filter(item=item, roadmap__workspace=item.product.workspace)
        .select_related("roadmap")
        .order_by("roadmap__name", "roadmap_id")
    )
    slug = item.product.workspace.slug
    return {
        "entries": [
            {
                "roadmap": e.roadmap.name,
                "layout": e.roadmap.get_layout_display(),
                "url": reverse("roadmaps:roadmap", args=[slug, e.roadmap_id]) + f"#entry-{e.pk}",
                "where": e.get_horizon_display()
                if e.roadmap.layout == "now_next_later"
                else (
                    f"{format_date(e.start_date)} – {format_date(e.end_date)}"
                    if e.roadmap.layout == "timeline" and e.start_date and e.end_date
                    else ""
                ),
                "commitment": e.get_commitment_display(),
            }
            for e in entries
        ],
        "roadmaps_url": reverse("roadmaps:roadmaps", args=[slug, item.product.key]),
    }
