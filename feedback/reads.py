"""Screen-shaped reads of feedback/: what the item page's demand panel, the
portal and the settings show, each in a constant number of queries. Reads
write nothing; writes are in ``feedback.services``."""

import re

from . import demand as demand_formula
from .models import DemandQueue, Insight, PortalSettings

EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
PANEL_ROWS = 20


def mask_emails(text: str) -> str:
    """Replace every email address in a text (the portal never shows one)."""
    return EMAIL_IN_TEXT.sub("[email hidden]", text or "")


def portal_settings(product) -> PortalSettings:
    """The product's portal and demand settings. Without a row, an unsaved
    default (portal off, default weights) comes back: the row is stored by
    the first write (``services.update_portal_settings``)."""
    return PortalSettings.objects.filter(product=product).first() or PortalSettings(product=product)


def item_demand_summary(item) -> dict:
    """What the item page shows: the latest insights with their customers,
    the distinct customers and the total revenue asking. Three queries,
    whatever the number of insights."""
    rows = list(
        Insight.objects.filter(item=item).values_list(
            "feedback_id",
            "feedback__person_id",
            "feedback__company_id",
            "feedback__company__annual_revenue",
        )
    )
    customers, revenue_by_company = set(), {}
    for feedback_id, person_id, company_id, revenue in rows:
        customers.add(demand_formula.customer_key(feedback_id, person_id, company_id))
        if company_id:
            revenue_by_company[company_id] = revenue or 0
    insights = list(
        Insight.objects.filter(item=item)
        .for_item_panel()
        .order_by("-feedback__received_at", "-id")[:PANEL_ROWS]
    )
    return {
        "insights": insights,
        "insight_count": len(rows),
        "customers": len(customers),
        "revenue": sum(revenue_by_company.values()),
        "demand": item.demand,
        "pending": DemandQueue.objects.filter(item_id=item.pk).exists(),
        "formula": demand_formula.FORMULA,
    }
