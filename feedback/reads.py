"""Screen-shaped reads of feedback/: the triage inbox and its detail pane,
the customers pages, the public portal and the item page's demand panel,
each in a constant number of queries whatever the number of rows. Reads
write nothing; writes are in ``feedback.services``."""

import datetime as dt
import re

from django.db.models import Count, Q, Sum

from backlog.models import Item, Status
from pmhub.api.pagination import decode_cursor, encode_cursor

from . import demand as demand_formula
from . import similarity
from .models import (
    Company,
    DemandQueue,
    Feedback,
    Insight,
    PortalSettings,
    PublicIdea,
    Source,
    State,
)

EMAIL_IN_TEXT = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
PANEL_ROWS = 20
INBOX_ROWS = 50
INBOX_CURSOR = "feedback:inbox"  # the inbox's keyset: (received_at, id), newest first
DUPLICATE_CANDIDATES = 300  # the most recent feedback compared for duplicates
COMPANY_ROWS = 500
# The portal's columns: a label and the backlog statuses it shows.
PORTAL_GROUPS = [
    ("Planned", (Status.PLANNED,)),
    ("In progress", (Status.IN_PROGRESS,)),
    ("Under consideration", (Status.IDEA, Status.CANDIDATE)),
    ("Shipped", (Status.SHIPPED,)),
    ("Declined", (Status.DECLINED,)),
]


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


# --- the triage inbox -------------------------------------------------------------------


def inbox(product, *, filters: dict, cursor=None, selected_id=None, after=None) -> dict:
    """What the inbox shows: a page of feedback matching ``filters`` (state,
    source, q), newest first and after ``cursor`` (the ``next_before`` of
    the page before; ``InvalidCursor`` if this list did not write it), the
    count per state, and the selected feedback with its detail. After an
    action on ``after``, the row that followed it is selected (or the one
    before it at the end of the list)."""
    qs = Feedback.objects.filter(product=product).matching(**filters)
    if cursor:
        received_at, pk = decode_cursor(cursor, INBOX_CURSOR, [dt.datetime, int])
        qs = qs.filter(Q(received_at__lt=received_at) | Q(received_at=received_at, pk__lt=pk))
    rows = list(qs.for_inbox().order_by("-received_at", "-id")[: INBOX_ROWS + 1])
    more = len(rows) > INBOX_ROWS
    rows = rows[:INBOX_ROWS]
    counts = dict(
        Feedback.objects.filter(product=product)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    if selected_id is None and after is not None:
        position = (after.received_at, after.pk)
        later = [r for r in rows if (r.received_at, r.pk) < position]
        earlier = [r for r in rows if (r.received_at, r.pk) > position]
        nxt = later[0] if later else (earlier[-1] if earlier else None)
        selected_id = nxt.pk if nxt is not None else None
    selected = None
    if selected_id is not None:
        selected = next((r for r in rows if r.pk == selected_id), None)
        if selected is None:
            selected = Feedback.objects.filter(product=product, pk=selected_id).for_inbox().first()
    elif rows:
        selected = rows[0]
    return {
        "rows": rows,
        "more": more,
        "next_before": (
            encode_cursor(INBOX_CURSOR, [rows[-1].received_at, rows[-1].pk]) if more else None
        ),
        "counts": {s: counts.get(s, 0) for s in State.values},
        "total": sum(counts.values()),
        **feedback_detail(product, selected),
    }


def feedback_detail(product, feedback) -> dict:
    """The inbox's detail pane: the feedback's insights, up to five items it
    may be about (not linked yet), likely duplicates among recent feedback,
    and a title for an item made from it."""
    if feedback is None:
        return {"selected": None}
    insights = list(feedback.insights.select_related("item").order_by("created_at"))
    linked = {i.item_id for i in insights}
    suggestions = [
        s
        for s in similarity.similar_items(feedback.text, product.pk, limit=5 + len(linked))
        if s.pk not in linked
    ][:5]
    recent = Feedback.objects.filter(product=product).exclude(pk=feedback.pk)
    candidates = list(
        recent.order_by("-received_at").only("id", "text", "state")[:DUPLICATE_CANDIDATES]
    )
    duplicates = similarity.likely_duplicates(feedback.text, candidates)[:3]
    if duplicates:
        # Who said it tells two identical sentences apart: names for the
        # few shown, not for every candidate compared.
        named = Feedback.objects.select_related("person", "company").in_bulk(
            [d.pk for d in duplicates]
        )
        duplicates = [named.get(d.pk, d) for d in duplicates]
    first_sentence = feedback.text.strip().split("\n")[0].split(". ")[0][:120]
    return {
        "selected": feedback,
        "insights": insights,
        "suggestions": suggestions,
        "duplicates": duplicates,
        "new_title": first_sentence,
    }


def items_to_link(product, q: str) -> list[Item]:
    """The link picker's search: up to 8 unarchived items of the product
    whose title contains ``q`` or whose key is ``q``, best score first."""
    if not q:
        return []
    return list(
        Item.objects.filter(product=product)
        .filter(Q(title__icontains=q) | Q(key__iexact=q))
        .exclude(status=Status.ARCHIVED)
        .order_by("-score", "id")[:8]
    )


# --- customers --------------------------------------------------------------------------


def customers(workspace, product, *, segment: str = "") -> dict:
    """The customers page: the workspace's companies (of one segment, if
    given) by revenue with their counts, and the totals of all of them."""
    companies = Company.objects.in_workspace(workspace).for_customer_list(product)
    if segment:
        companies = companies.filter(segment=segment)
    return {
        "companies": list(companies.order_by("-annual_revenue", "name")[:COMPANY_ROWS]),
        "totals": Company.objects.in_workspace(workspace).aggregate(
            revenue=Sum("annual_revenue"), n=Count("id")
        ),
    }


def company(product, company: Company) -> dict:
    """A company's page: its latest feedback on the product and its people."""
    return {
        "recent": list(
            Feedback.objects.filter(product=product, company=company)
            .select_related("person")
            .order_by("-received_at")[:50]
        ),
        "people": list(company.people.all()[:100]),
    }


# --- the public portal ------------------------------------------------------------------


def portal(product) -> list[dict]:
    """The portal's groups of published ideas, each idea with what customers
    said about it on the portal (two snippets at most) and every text it
    shows with email addresses masked; no names."""
    ideas = list(PublicIdea.objects.for_portal(product))
    quotes: dict[int, list[str]] = {}
    rows = (
        Insight.objects.filter(item__public_idea__product=product, feedback__source=Source.PORTAL)
        .order_by("-created_at")
        .values_list("item_id", "snippet")[:200]
    )
    for item_id, snippet in rows:
        bucket = quotes.setdefault(item_id, [])
        quote = mask_emails(snippet)[:280]
        if len(bucket) < 2 and quote not in bucket:
            bucket.append(quote)
    for idea in ideas:
        idea.quotes = quotes.get(idea.item_id, [])
        idea.safe_title = mask_emails(idea.public_title)
        idea.safe_description = mask_emails(idea.public_description)
        idea.safe_reason = mask_emails(idea.item.status_reason)
    groups = []
    for label, statuses in PORTAL_GROUPS:
        members = [i for i in ideas if i.item.status in statuses]
        if members:
            groups.append({"label": label, "ideas": members, "status": statuses[0]})
    return groups


def item_panel(item) -> dict:
    """The item page's feedback panel: the demand summary and, if the item
    is on the portal, its public idea."""
    return {
        **item_demand_summary(item),
        "idea": PublicIdea.objects.filter(item=item).first(),
    }
