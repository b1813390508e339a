"""Demo backlog: about 150 realistic items across the demo products, scored
with RICE, ranked, some inside epics, with custom fields, a second weighted
model to compare against, and some edit history. Idempotent."""

import random

from products.models import Objective, Product

from . import launch_demo, services
from .models import Item, ScoringModel

# (title, type, status, tags, objective index or None, reach, impact, confidence, effort, value)
PAY_EPICS = [
    ("One-click checkout", "Returning shoppers pay without typing anything.", 0),
    ("SEPA and iDEAL payments", "Local payment methods for the EU launch.", 1),
    ("Automatic reconciliation", "Payouts matched to orders without a spreadsheet.", 2),
]
PAY_ITEMS = [
    ("Save cards for returning shoppers", "feature", 0, ["checkout"], 8000, 2, 80, 3, 8),
    ("Apple Pay on the hosted checkout", "feature", 0, ["checkout", "wallets"], 6000, 2, 90, 2, 8),
    ("Google Pay on the hosted checkout", "feature", 0, ["checkout", "wallets"], 5000, 2, 80, 2, 7),
    (
        "Autofill billing address from the shipping address",
        "improvement",
        0,
        ["checkout"],
        9000,
        1,
        90,
        1,
        6,
    ),
    (
        "Show the total in the shopper's currency",
        "feature",
        0,
        ["checkout", "currency"],
        4000,
        1,
        70,
        2,
        6,
    ),
    ("Smart retries for soft declines", "feature", 0, ["declines"], 3000, 3, 60, 4, 9),
    (
        "Decline reason codes in the dashboard",
        "improvement",
        0,
        ["declines", "dashboard"],
        1500,
        1,
        90,
        1,
        5,
    ),
    ("Network tokens for Visa and Mastercard", "feature", 0, ["declines"], 5000, 2, 50, 6, 7),
    (
        "3-D Secure exemptions for low-risk payments",
        "feature",
        0,
        ["declines", "fraud"],
        4000,
        2,
        60,
        5,
        7,
    ),
    (
        "Checkout page loads in under one second",
        "improvement",
        0,
        ["checkout", "performance"],
        10000,
        1,
        80,
        3,
        6,
    ),
    ("Card form fails on Safari 17 autofill", "bug", 0, ["checkout", "bug"], 2000, 2, 100, 1, 7),
    (
        "Double charge when the shopper clicks Pay twice",
        "bug",
        0,
        ["checkout", "bug"],
        300,
        3,
        100,
        1,
        9,
    ),
    ("SEPA Direct Debit mandates", "feature", 1, ["eu", "sepa"], 2500, 2, 80, 5, 8),
    ("iDEAL payments for Dutch shoppers", "feature", 1, ["eu"], 1800, 2, 90, 3, 8),
    ("Bancontact for Belgian shoppers", "feature", 1, ["eu"], 700, 1, 80, 3, 5),
    ("Sofort / Klarna Pay Now", "feature", 1, ["eu"], 1500, 1, 50, 4, 5),
    ("EU VAT on fees in the invoices", "feature", 1, ["eu", "billing"], 900, 1, 90, 2, 6),
    (
        "Onboarding for EU merchants in German and French",
        "improvement",
        1,
        ["eu", "onboarding"],
        600,
        2,
        70,
        3,
        6,
    ),
    (
        "Strong customer authentication for saved cards",
        "feature",
        1,
        ["eu", "fraud"],
        3000,
        2,
        70,
        4,
        7,
    ),
    ("Payout in EUR to EU bank accounts", "feature", 1, ["eu", "payouts"], 800, 2, 90, 3, 8),
    ("Payout report matched to orders", "feature", 2, ["payouts", "finance"], 1200, 3, 70, 5, 9),
    ("Export payouts to Xero", "feature", 2, ["finance", "integrations"], 500, 2, 80, 2, 6),
    ("Export payouts to QuickBooks", "feature", 2, ["finance", "integrations"], 600, 2, 80, 2, 6),
    (
        "Fee breakdown per transaction",
        "improvement",
        2,
        ["finance", "dashboard"],
        1500,
        1,
        90,
        1,
        5,
    ),
    ("Monthly statement PDF", "feature", 2, ["finance"], 1000, 1, 80, 2, 4),
    ("Refunds show up in the payout report", "bug", 2, ["finance", "bug"], 700, 2, 100, 1, 6),
    ("Webhooks for payout events", "feature", 2, ["api", "payouts"], 400, 1, 80, 2, 5),
    ("Dispute evidence upload", "feature", None, ["disputes"], 300, 2, 70, 3, 6),
    ("Fraud rules editor", "feature", None, ["fraud"], 800, 2, 50, 6, 7),
    ("Block payments from high-risk countries", "improvement", None, ["fraud"], 600, 1, 80, 1, 4),
    ("Team roles in the merchant dashboard", "feature", None, ["dashboard"], 900, 1, 80, 3, 5),
    (
        "Dark mode for the merchant dashboard",
        "improvement",
        None,
        ["dashboard"],
        2000,
        0.5,
        90,
        2,
        2,
    ),
    ("Search payments by last four digits", "improvement", None, ["dashboard"], 1500, 1, 100, 1, 4),
    ("Payment links without a website", "feature", None, ["growth"], 1200, 2, 60, 3, 6),
    (
        "Subscriptions with trials and coupons",
        "feature",
        None,
        ["growth", "billing"],
        2000,
        3,
        50,
        8,
        8,
    ),
    ("Buy now, pay later", "experiment", None, ["growth", "checkout"], 3000, 2, 30, 6, 6),
    ("Crypto payments", "experiment", None, ["experiment"], 200, 1, 20, 5, 2),
    (
        "Shopify app listing refresh",
        "improvement",
        None,
        ["growth", "integrations"],
        2500,
        1,
        70,
        1,
        5,
    ),
    ("WooCommerce plugin 2.0", "feature", None, ["integrations"], 1800, 2, 70, 4, 6),
    ("Idempotency keys on every API write", "improvement", None, ["api"], 700, 2, 90, 2, 7),
    ("API rate limits per merchant", "improvement", None, ["api"], 400, 1, 80, 2, 4),
    ("SDK for Python", "feature", None, ["api", "integrations"], 500, 1, 70, 3, 4),
    (
        "Status page with component history",
        "improvement",
        None,
        ["reliability"],
        3000,
        0.5,
        90,
        1,
        3,
    ),
    (
        "Timeout on the card vault during peak traffic",
        "bug",
        None,
        ["reliability", "bug"],
        6000,
        2,
        90,
        2,
        8,
    ),
    ("Wrong currency symbol for CHF", "bug", None, ["currency", "bug"], 300, 0.5, 100, 0.5, 2),
    (
        "Receipt emails in the shopper's language",
        "improvement",
        None,
        ["checkout"],
        3000,
        0.5,
        80,
        1,
        3,
    ),
    ("Partial captures for split shipments", "feature", None, ["checkout"], 400, 2, 70, 3, 5),
    ("Multi-currency pricing tables", "feature", None, ["currency"], 1000, 1, 50, 4, 4),
    ("Chargeback alerts by email", "improvement", None, ["disputes"], 500, 1, 90, 1, 4),
    ("Level 2/3 card data for B2B", "feature", None, [], None, 1, 40, 5, 4),
    ("Instant payouts", "experiment", None, ["payouts", "growth"], None, 2, 40, 6, 7),
    ("Merchant referral programme", "experiment", None, ["growth"], 600, 1, None, 2, 4),
    ("PCI report self-service", "improvement", None, ["compliance"], 300, 1, 90, 2, None),
    (
        "Accessibility audit of the hosted checkout",
        "improvement",
        0,
        ["checkout", "a11y"],
        5000,
        1,
        80,
        2,
        6,
    ),
    ("Retry failed webhooks with backoff", "bug", None, ["api", "bug"], 600, 1, 100, 1, 5),
]
ANL_EPICS = [
    ("Design partner beta", "Weekly value for the first 25 shops.", 0),
    ("Trustworthy numbers", "Reports that match finance, always fresh.", 1),
]
ANL_ITEMS = [
    ("Revenue by product dashboard", "feature", 0, ["dashboard"], 25, 3, 80, 3, 9),
    ("Revenue by channel dashboard", "feature", 0, ["dashboard"], 25, 2, 70, 3, 8),
    ("Ask a question in plain English", "experiment", 0, ["ai"], 25, 3, 30, 8, 9),
    ("Weekly email digest", "feature", 0, ["email"], 25, 2, 80, 2, 7),
    ("Cohort retention chart", "feature", 0, ["dashboard"], 15, 2, 60, 4, 7),
    ("Compare to last year", "improvement", 0, ["dashboard"], 25, 1, 90, 1, 6),
    ("Share a report link with a teammate", "feature", 0, ["sharing"], 20, 1, 80, 2, 5),
    ("Onboarding checklist for design partners", "improvement", 0, ["onboarding"], 25, 1, 90, 1, 5),
    ("Streaming ingestion from Acme Pay", "feature", 1, ["data"], 25, 3, 70, 6, 9),
    ("Nightly reconciliation against payouts", "feature", 1, ["data", "finance"], 25, 3, 80, 4, 9),
    (
        "Data freshness indicator on every chart",
        "improvement",
        1,
        ["data", "dashboard"],
        25,
        1,
        90,
        1,
        6,
    ),
    ("Refunds counted twice in revenue", "bug", 1, ["data", "bug"], 25, 3, 100, 1, 10),
    ("Time zone of the shop for daily buckets", "bug", 1, ["data", "bug"], 25, 2, 100, 1, 7),
    ("Backfill two years of history", "feature", 1, ["data"], 25, 2, 70, 5, 7),
    (
        "Currency conversion at the transaction date",
        "improvement",
        1,
        ["data", "currency"],
        15,
        2,
        80,
        3,
        6,
    ),
    ("Anomaly alerts on revenue drops", "experiment", 1, ["ai", "alerts"], 20, 2, 40, 5, 7),
    ("Pricing page and plans", "feature", 2, ["billing", "growth"], 100, 2, 70, 2, 8),
    ("Self-serve upgrade from the beta", "feature", 2, ["billing"], 100, 2, 80, 3, 8),
    ("Usage limits per plan", "feature", 2, ["billing"], 100, 1, 80, 3, 5),
    ("Annual billing discount", "improvement", 2, ["billing"], 100, 1, 60, 1, 4),
    ("Google Ads cost import", "feature", None, ["integrations", "ads"], 15, 2, 60, 4, 7),
    ("Meta Ads cost import", "feature", None, ["integrations", "ads"], 15, 2, 60, 4, 7),
    ("ROAS by campaign", "feature", None, ["ads", "dashboard"], 12, 3, 50, 5, 8),
    ("CSV export of any chart", "improvement", None, ["export"], 25, 1, 90, 1, 5),
    ("Scheduled PDF reports", "feature", None, ["export", "email"], 10, 1, 70, 3, 4),
    ("Mobile layout for dashboards", "improvement", None, ["mobile"], 20, 1, 80, 3, 5),
    ("Dark mode", "improvement", None, ["dashboard"], 20, 0.5, 90, 2, 2),
    ("Inventory forecast", "experiment", None, ["ai"], 8, 2, 20, 8, 6),
    ("Customer lifetime value by segment", "feature", None, ["dashboard"], 12, 2, 50, 4, 7),
    ("Goals and targets on charts", "feature", None, ["dashboard"], 18, 1, 70, 2, 5),
    ("SQL access for power users", "experiment", None, ["data"], 5, 2, 40, 6, 4),
    ("Looker Studio connector", "feature", None, ["integrations"], 8, 1, 60, 4, 4),
    (
        "Chart tooltips cut off on small screens",
        "bug",
        None,
        ["mobile", "bug"],
        20,
        0.5,
        100,
        0.5,
        3,
    ),
    (
        "Slow first load for shops with 1M orders",
        "bug",
        None,
        ["performance", "bug"],
        6,
        2,
        90,
        3,
        6,
    ),
    ("Benchmarks against similar shops", "experiment", None, ["growth"], None, 2, 30, 5, 6),
    ("Slack alerts", "feature", None, ["alerts", "integrations"], 15, 1, None, 2, 5),
    ("Audit log of report changes", "improvement", None, ["compliance"], 5, 1, 80, 2, None),
]
# Raw ideas from sales calls and support: only a rough value and effort yet.
PAY_IDEAS = [
    "Pay by bank transfer with instant confirmation",
    "Split payments between two cards",
    "Tipping on the checkout page",
    "Donations round-up at checkout",
    "QR code payments in shops",
    "Tap to pay on iPhone for pop-up stores",
    "Installments for orders over €500",
    "Gift cards",
    "Store credit for refunds",
    "Pre-orders charged on shipping",
    "Marketplace payouts to sellers",
    "Escrow for high-value orders",
    "Invoice payments for B2B",
    "Purchase orders with net-30 terms",
    "Checkout in Arabic and Hebrew (right to left)",
    "Accessibility statement page",
    "Branded checkout domain",
    "Custom fonts on the checkout",
    "A/B test two checkout layouts",
    "Abandoned checkout emails",
    "Checkout analytics funnel",
    "Sandbox with realistic test cards",
    "Postman collection for the API",
    "Terraform provider",
    "SAML single sign-on for the dashboard",
    "Two-factor authentication with passkeys",
    "Audit log export",
    "Data residency in the EU",
    "Carbon footprint of payments",
    "Cash on delivery",
]
ANL_IDEAS = [
    "Product bundles analysis",
    "Discount code performance",
    "Refund reasons report",
    "Repeat purchase rate",
    "First-order to second-order time",
    "Geographic sales map",
    "Hour-of-day heatmap",
    "Best customers list",
    "Churned customers list",
    "Forecast next month's revenue",
    "Seasonality view",
    "Margin by product with cost import",
    "Shipping cost analysis",
    "Returns rate by product",
    "Email campaign attribution",
    "TikTok Ads import",
    "Influencer code tracking",
    "Custom metrics builder",
    "Embed a chart in Notion",
    "Public dashboard link",
    "Daily Slack summary",
    "Goals for the team with progress",
    "Multi-store rollup",
    "Team roles for agencies",
    "White-label reports for agencies",
]
STATUSES_BY_POSITION = [
    "in_progress",
    "in_progress",
    "planned",
    "planned",
    "planned",
    "candidate",
    "candidate",
    "idea",
    "idea",
    "idea",
    "idea",
]
SEGMENTS = ["SMB", "Mid-market", "Enterprise"]


def seed(*, workspace, users) -> bool:
    created = False
    specs = (("PAY", PAY_EPICS, PAY_ITEMS, PAY_IDEAS), ("ANL", ANL_EPICS, ANL_ITEMS, ANL_IDEAS))
    for key, epics, items, ideas in specs:
        product = Product.objects.filter(workspace=workspace, key=key).first()
        if product is None or Item.objects.filter(product=product).exists():
            continue
        created = True
        _seed_product(product, epics, items, ideas, users)
    # Launch reviews need both the items (above) and the demo metrics (products/).
    created |= launch_demo.seed(workspace=workspace, users=users)
    return created


def _seed_product(product, epics, items, ideas, users) -> None:
    rng = random.Random(f"pmhub-demo-{product.key}")
    owner, alex = users["demo"], users["alex"]
    objectives = list(Objective.objects.filter(product=product).order_by("position", "id"))
    segment = services.create_custom_field(
        owner, product=product, name="Segment", kind="select", options=SEGMENTS
    )
    revenue = services.create_custom_field(
        owner,
        product=product,
        name="Revenue at stake (k€)",
        kind="number",
        min_value=0,
        max_value=10000,
    )
    epic_items = []
    for title, description, objective_index in epics:
        epic_items.append(
            services.create_item(
                owner,
                product=product,
                title=title,
                type="epic",
                status="planned",
                description=description,
                objectives=[objectives[objective_index]],
                owner=owner,
            )
        )
    for n, (
        title,
        type_,
        objective_index,
        tags,
        reach,
        impact,
        confidence,
        effort,
        value,
    ) in enumerate(items):
        status = STATUSES_BY_POSITION[n % len(STATUSES_BY_POSITION)] if n < 40 else "idea"
        if n % 13 == 5:
            status = "shipped"
        reason = ""
        if n % 17 == 9:
            status, reason = (
                "declined",
                "Too little demand outside one large merchant; revisit next year.",
            )
        parent = (
            epic_items[objective_index]
            if objective_index is not None and objective_index < len(epic_items)
            else None
        )
        services.create_item(
            owner,
            product=product,
            title=title,
            type=type_,
            status=status,
            status_reason=reason,
            tags=tags,
            objectives=[objectives[objective_index]] if objective_index is not None else [],
            parent=parent,
            owner=rng.choice([owner, alex, None]),
            reach=reach,
            impact=impact,
            confidence=confidence,
            effort=effort,
            value=value,
            description=f"**Why:** {title.lower()} came up in customer conversations and support tickets.",
            custom={
                str(segment.pk): rng.choice(SEGMENTS),
                str(revenue.pk): rng.choice([None, 20, 50, 120, 300, 800]),
            },
        )
    for title in ideas:
        services.create_item(
            rng.choice([owner, alex]),
            product=product,
            title=title,
            type="feature",
            status="idea",
            value=rng.choice([None, 2, 3, 4, 5, 6, 7]),
            effort=rng.choice([None, 1, 2, 3, 5, 8]),
            tags=rng.sample(["from-sales", "from-support", "growth", "enterprise"], 1),
        )
    # A product manager's manual ranking: open items by score, some bumped by hand.
    ordered = list(Item.objects.filter(product=product).order_by("-score", "id"))
    for item in ordered:
        services.move_item(owner, item=item, after=None, before=None)
    for item in rng.sample(ordered, 6):
        services.move_item_to_top(owner, item=item)
    # Some edit history and score movements to explain.
    for item in rng.sample([i for i in ordered if i.effort], 8):
        fresh = Item.objects.get(pk=item.pk)
        services.update_item(
            alex,
            item=fresh,
            expected_version=fresh.version,
            fields={"effort": round(fresh.effort * rng.choice([0.5, 1.5, 2]), 1)},
        )
    ScoringModel.objects.get_or_create(
        product=product, name="Value ÷ effort", defaults={"kind": "value_effort"}
    )
    services.create_scoring_model(
        owner,
        product=product,
        name="Growth focus",
        kind="weighted",
        criteria=[
            {"name": "Customer value", "source": "value", "weight": 3, "min": 0, "max": 10},
            {
                "name": "Revenue at stake",
                "source": f"cf:{revenue.pk}",
                "weight": 2,
                "min": 0,
                "max": 800,
            },
            {"name": "Confidence", "source": "confidence", "weight": 1, "min": 0, "max": 100},
            {
                "name": "Effort",
                "source": "effort",
                "weight": 2,
                "min": 0,
                "max": 8,
                "higher_is_better": False,
            },
        ],
    )
