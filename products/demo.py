"""Demo data of products/: two products with vision and strategy.
Called by ``manage.py seed_demo`` (idempotent)."""

from . import services
from .models import Product

PRODUCTS = [
    {
        "key": "PAY",
        "name": "Acme Pay",
        "stage": "development",
        "description": "Checkout and payments for **mid-market online shops**: cards, wallets and "
        "bank transfers behind one API, with fraud checks built in.",
        "vision": {
            "statement": "Every independent online shop takes payments as smoothly as the giants do "
            "— in any currency, with no payments team of its own.",
            "target_customers": "Online shops with 10–500 employees selling across borders, "
            "usually on Shopify, WooCommerce or their own stack.",
            "problem": "Checkout abandonment is high (about 1 in 5 carts fail at payment), "
            "cross-border cards are declined too often, and reconciling payouts takes a person "
            "a day each week.",
            "value_proposition": "- One integration for cards, wallets and local methods\n"
            "- Smart retries that recover declined payments\n- Payouts that reconcile themselves",
            "differentiation": "Declines recovered by default, transparent per-country pricing, and "
            "a reconciliation export accountants actually like.",
        },
        "objectives": [
            (
                "Make checkout conversion best in class",
                "2027 Q1",
                "on_track",
                "Every failed payment is a lost customer. Conversion is the metric our customers buy on.",
                [
                    ("Checkout conversion", "%", 72, 85, 78),
                    ("Payment declines recovered", "%", 5, 30, 17),
                ],
            ),
            (
                "Expand into the EU market",
                "2027 H1",
                "at_risk",
                "Half of our pipeline sells into Europe and asks for SEPA and iDEAL.",
                [
                    ("EU merchants live", "merchants", 0, 150, 40),
                    ("Local payment methods", "methods", 1, 6, 3),
                ],
            ),
            (
                "Cut reconciliation time for finance teams",
                "2027 Q2",
                "not_started",
                "Finance is the buyer at renewal; reconciliation is their top complaint.",
                [("Median hours per week on reconciliation", "h", 8, 1, None)],
            ),
        ],
        "competitors": [
            (
                "Stripe",
                "https://stripe.com",
                "high",
                "Developer-first global payments platform.",
                "- Huge ecosystem\n- Excellent docs",
                "- Opaque pricing for mid-market\n- Support is slow",
            ),
            (
                "Adyen",
                "https://www.adyen.com",
                "medium",
                "Enterprise payments with one platform.",
                "- Local methods everywhere",
                "- Minimums price out smaller shops",
            ),
            (
                "Mollie",
                "https://www.mollie.com",
                "medium",
                "Simple payments for European SMBs.",
                "- Strong in NL/DE\n- Simple onboarding",
                "- Weak outside Europe",
            ),
        ],
        "personas": [
            (
                "Maya, e-commerce manager",
                "Head of E-commerce",
                "- Lift conversion\n- Launch new markets quickly",
                "- Cart abandonment at payment\n- Waiting on developers for every change",
            ),
            (
                "Tom, finance lead",
                "Finance Manager",
                "- Close the books fast\n- Trust the numbers",
                "- Manual payout reconciliation\n- Fees that are hard to predict",
            ),
        ],
    },
    {
        "key": "ANL",
        "name": "Acme Analytics",
        "stage": "planning",
        "description": "Self-serve sales analytics for the same shops: which products, channels and "
        "campaigns make money.",
        "vision": {
            "statement": "Shop owners answer their own business questions in minutes, without an "
            "analyst or a spreadsheet.",
            "target_customers": "Owners and marketing leads of Acme Pay merchants.",
            "problem": "Sales data is scattered across the shop, ads and payments; reports are "
            "stale by the time they are built.",
            "value_proposition": "Payments data joined with orders and ads, live, with answers "
            "phrased as plain questions.",
            "differentiation": "We already hold the payment data: no setup, no tracking scripts.",
        },
        "objectives": [
            (
                "Prove self-serve value with design partners",
                "2027 Q1",
                "on_track",
                "We only build the full product if merchants use the beta weekly.",
                [("Weekly active design partners", "shops", 0, 25, 11)],
            ),
            (
                "Reach a reliable data foundation",
                "2027 Q1",
                "at_risk",
                "Wrong numbers kill trust in analytics for good.",
                [
                    ("Data freshness", "minutes", 240, 15, 60),
                    ("Reports matching finance totals", "%", 80, 99.5, 96),
                ],
            ),
            (
                "Launch the paid tier",
                "2027 Q2",
                "not_started",
                "Analytics must pay for itself within the year.",
                [("Paying shops", "shops", 0, 100, None)],
            ),
        ],
        "competitors": [
            (
                "Shopify Analytics",
                "https://www.shopify.com",
                "high",
                "Built-in reports for Shopify stores.",
                "- Zero setup for Shopify shops",
                "- Shopify-only\n- Shallow attribution",
            ),
            (
                "Triple Whale",
                "https://www.triplewhale.com",
                "medium",
                "Attribution dashboards for DTC brands.",
                "- Strong ad attribution",
                "- Expensive\n- Needs tracking pixels",
            ),
        ],
        "personas": [
            (
                "Sam, shop owner",
                "Founder",
                "- Know what sells\n- Spend ad money wisely",
                "- No time for spreadsheets\n- Conflicting numbers between tools",
            ),
        ],
    },
]


def seed(*, workspace, users) -> bool:
    """Create the demo products with vision, objectives, competitors and
    personas. Returns True when something was created."""
    owner = users["demo"]
    created = False
    for spec in PRODUCTS:
        if Product.objects.filter(workspace=workspace, key=spec["key"]).exists():
            continue
        created = True
        product = services.create_product(
            owner,
            workspace=workspace,
            name=spec["name"],
            key=spec["key"],
            description=spec["description"],
            stage=spec["stage"],
        )
        services.update_vision(
            owner, vision=product.vision, expected_version=None, fields=spec["vision"]
        )
        for title, period, status, why, krs in spec["objectives"]:
            objective = services.create_objective(
                owner,
                product=product,
                title=title,
                period=period,
                status=status,
                why=why,
                owner=users["alex"] if status == "at_risk" else owner,
            )
            for name, unit, start, target, current in krs:
                services.create_key_result(
                    owner,
                    objective=objective,
                    name=name,
                    unit=unit,
                    start_value=start,
                    target_value=target,
                    current_value=current,
                )
        for name, website, threat, positioning, strengths, weaknesses in spec["competitors"]:
            services.create_competitor(
                owner,
                product=product,
                name=name,
                website=website,
                threat_level=threat,
                positioning=positioning,
                strengths=strengths,
                weaknesses=weaknesses,
            )
        for name, role, goals, pains in spec["personas"]:
            services.create_persona(
                owner, product=product, name=name, role=role, goals=goals, pains=pains
            )
    return created
