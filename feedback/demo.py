"""Demo customer feedback: about 40 customers across segments, 300+ pieces of
feedback from every channel, many linked to backlog items as insights (so the
"Customer demand" scoring model of Acme Pay moves, with the cause in each
item's score history), an inbox left to triage, and the public portal of
Acme Pay with ideas and votes. Called by ``manage.py seed_demo`` (idempotent)."""

import datetime as dt
import random

from django.utils import timezone

from backlog import services as backlog_services
from backlog.models import Item
from products.models import Product

from . import services
from .models import Feedback, Importance, PublicIdea, Source

# (name, domain, segment, plan, annual revenue)
COMPANIES = [
    ("Northwind Outfitters", "northwind.example", "enterprise", "Scale", 1_850_000),
    ("Globex Retail", "globex.example", "enterprise", "Scale", 1_400_000),
    ("Initech Commerce", "initech.example", "enterprise", "Scale", 960_000),
    ("Umbrella Home", "umbrella-home.example", "enterprise", "Scale", 780_000),
    ("Stark Gear", "starkgear.example", "enterprise", "Scale", 1_200_000),
    ("Wayne Apparel", "wayne-apparel.example", "enterprise", "Scale", 640_000),
    ("Soylent Foods", "soylent.example", "enterprise", "Scale", 520_000),
    ("Hooli Shop", "hoolishop.example", "mid_market", "Growth", 240_000),
    ("Pied Piper Audio", "piedpiper.example", "mid_market", "Growth", 180_000),
    ("Vandelay Imports", "vandelay.example", "mid_market", "Growth", 210_000),
    ("Bluth Bananas", "bluth.example", "mid_market", "Growth", 95_000),
    ("Dunder Paper", "dunder.example", "mid_market", "Growth", 150_000),
    ("Gringotts Goods", "gringotts.example", "mid_market", "Growth", 130_000),
    ("Tyrell Plants", "tyrell.example", "mid_market", "Growth", 165_000),
    ("Cyberdyne Parts", "cyberdyne.example", "mid_market", "Growth", 275_000),
    ("Oceanic Travel Gear", "oceanic.example", "mid_market", "Growth", 120_000),
    ("Wonka Sweets", "wonka.example", "mid_market", "Growth", 190_000),
    ("Sterling Stationery", "sterling.example", "mid_market", "Growth", 88_000),
    ("Monarch Bikes", "monarch.example", "mid_market", "Growth", 140_000),
    ("Prestige Watches", "prestige.example", "mid_market", "Growth", 230_000),
    ("Acorn Toys", "acorntoys.example", "smb", "Starter", 18_000),
    ("Bean There Coffee", "beanthere.example", "smb", "Starter", 9_500),
    ("Crafty Fox", "craftyfox.example", "smb", "Starter", 6_000),
    ("Daisy Florals", "daisy.example", "smb", "Starter", 12_000),
    ("Echo Records", "echorecords.example", "smb", "Starter", 7_500),
    ("Fable Books", "fable.example", "smb", "Starter", 14_000),
    ("Granite Climbing", "granite.example", "smb", "Starter", 21_000),
    ("Harbor Candles", "harbor.example", "smb", "Starter", 5_000),
    ("Indigo Dye Works", "indigo.example", "smb", "Starter", 8_000),
    ("Juniper Tea", "juniper.example", "smb", "Starter", 11_000),
    ("Kiln Ceramics", "kiln.example", "smb", "Starter", 4_500),
    ("Lumen Lamps", "lumen.example", "smb", "Starter", 16_000),
    ("Maple Woodworks", "maple.example", "smb", "Starter", 13_000),
    ("Nimbus Kites", "nimbus.example", "smb", "Starter", 3_500),
    ("Orchard Cider", "orchard.example", "smb", "Starter", 9_000),
    ("Pebble Pets", "pebble.example", "smb", "Starter", 19_000),
    ("Quill Pens", "quill.example", "smb", "Starter", 6_500),
    ("Rover Outdoor", "rover.example", "smb", "Starter", 24_000),
    ("Saffron Spices", "saffron.example", "smb", "Starter", 10_000),
    ("Tundra Knitwear", "tundra.example", "smb", "Starter", 15_000),
]
FIRST = [
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Emma",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kira",
    "Leo",
    "Mia",
    "Noah",
    "Olga",
    "Pia",
    "Raj",
    "Sara",
    "Tom",
    "Uma",
]
LAST = [
    "Adams",
    "Berg",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Meyer",
]

# Item title → what customers say about it (the demo links these as insights).
THEMES = {
    "Save cards for returning shoppers": [
        "Our repeat buyers hate typing their card again. Can you remember cards for returning shoppers?",
        "Please let returning customers save their card, we lose orders at the payment step.",
        "Saved cards would be huge for us: 60% of our orders are repeat customers.",
    ],
    "Apple Pay on the hosted checkout": [
        "When will Apple Pay be available on the hosted checkout? Mobile shoppers expect it.",
        "Our iPhone customers keep asking for Apple Pay at checkout.",
        "We are evaluating a switch because the competitor offers Apple Pay on their hosted page.",
    ],
    "SEPA Direct Debit mandates": [
        "We need SEPA Direct Debit for our German subscribers, cards are not common there.",
        "SEPA direct debit mandates are a blocker for our EU expansion.",
        "Can we collect SEPA mandates through your API? Our finance team requires it.",
    ],
    "iDEAL payments for Dutch shoppers": [
        "Dutch shoppers want iDEAL. Without it our conversion in the Netherlands is terrible.",
        "Please add iDEAL, it is the default payment method in NL.",
    ],
    "Payout report matched to orders": [
        "Reconciling payouts with orders takes our accountant a full day every week.",
        "We need a payout report that lists which orders are in each payout.",
        "Matching payouts to orders manually in a spreadsheet is painful, please automate it.",
    ],
    "Export payouts to Xero": [
        "An export of payouts to Xero would save our bookkeeper hours.",
        "Do you integrate with Xero? We need payouts in our accounting.",
    ],
    "Smart retries for soft declines": [
        "Too many cards are declined with 'do not honor'. Could you retry them automatically?",
        "Soft declines cost us revenue, a smart retry would recover many of them.",
    ],
    "Double charge when the shopper clicks Pay twice": [
        "A customer was charged twice after double clicking the Pay button!",
        "We got a complaint about a double charge again, the Pay button needs protection.",
    ],
    "Fraud rules editor": [
        "We want to write our own fraud rules, e.g. block orders over 2000 from new accounts.",
        "A rules editor for fraud checks would let us stop the chargebacks we see every week.",
    ],
    "Dark mode for the merchant dashboard": [
        "Dark mode for the dashboard please, our support team works at night.",
    ],
    "Subscriptions with trials and coupons": [
        "We sell boxes monthly; we need subscriptions with a free trial and coupons.",
        "Recurring billing with trials is the one thing missing for us.",
    ],
    "Search payments by last four digits": [
        "Support needs to find a payment by the last four digits of the card.",
        "Searching payments by card last 4 would make our support so much faster.",
    ],
    "Timeout on the card vault during peak traffic": [
        "During our Black Friday sale checkout timed out several times. Card vault errors.",
        "Peak traffic timeouts cost us orders yesterday, this is critical for us.",
    ],
    "Export payouts to QuickBooks": [
        "Please add a QuickBooks export for payouts, we use QuickBooks Online.",
    ],
    "Receipt emails in the shopper's language": [
        "Receipts should be sent in the shopper's language, our French customers get English emails.",
    ],
}
# Feedback nobody has triaged yet, or that matches nothing in the backlog.
UNLINKED = [
    "Your support team was really helpful last week, thanks!",
    "Can we get an invoice with our VAT number on it?",
    "The onboarding video is outdated, the dashboard looks different now.",
    "Is there a way to add a second admin to our account?",
    "We would love a mobile app for the dashboard to check sales on the go.",
    "The API docs example for refunds returns a 400, please fix the docs.",
    "Could you support payments in Polish złoty (PLN)?",
    "Please add a Shopify POS integration for our physical store.",
    "Our shoppers ask for PayPal at checkout.",
    "I'd like to see conversion rate per payment method in the dashboard.",
    "Payouts arrive on Tuesdays; can we choose daily payouts instead?",
    "<script>alert('hi')</script> checkout broke when I pasted this into the name field",
    "Contact me at jane.doe@example.com about a volume discount for 2027.",
]
SOURCES = [
    Source.EMAIL,
    Source.SUPPORT,
    Source.SALES_CALL,
    Source.INTERVIEW,
    Source.SURVEY,
    Source.API,
    Source.PORTAL,
]
PUBLIC = [
    ("Save cards for returning shoppers", "Remember my card", "Pay with a saved card next time."),
    ("Apple Pay on the hosted checkout", "Apple Pay", "Pay with Apple Pay on the checkout page."),
    ("SEPA Direct Debit mandates", "SEPA Direct Debit", "Pay by direct debit from an EU account."),
    ("iDEAL payments for Dutch shoppers", "iDEAL", "The Netherlands' favourite payment method."),
    ("Payout report matched to orders", "Payouts that reconcile themselves", ""),
    ("Export payouts to Xero", "Xero export", "Send payouts to Xero automatically."),
    ("Dark mode for the merchant dashboard", "Dark mode", "A dark theme for the dashboard."),
    (
        "Subscriptions with trials and coupons",
        "Subscriptions",
        "Recurring billing, trials, coupons.",
    ),
    ("Crypto payments", "Pay with crypto", "Accept Bitcoin and stablecoins."),
    ("Fraud rules editor", "Custom fraud rules", "Write your own rules for risky orders."),
]


def seed(*, workspace, users) -> bool:
    product = Product.objects.filter(workspace=workspace, key="PAY").first()
    if product is None or Feedback.objects.filter(product=product).exists():
        return False
    if not Item.objects.filter(product=product).exists():
        return False
    _seed_pay(product, users)
    return True


def _seed_pay(product, users) -> None:
    rng = random.Random("pmhub-demo-feedback")
    pm, alex = users["demo"], users["alex"]
    workspace = product.workspace
    now = timezone.now()
    companies = []
    for name, domain, segment, plan, revenue in COMPANIES:
        companies.append(
            services.create_company(
                pm,
                workspace=workspace,
                name=name,
                domain=domain,
                segment=segment,
                plan=plan,
                annual_revenue=revenue,
                owner=rng.choice([pm, alex, None]),
            )
        )
    people = []
    for company in companies:
        for _ in range(rng.choice([1, 1, 2, 3])):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first.lower()}.{last.lower()}@{company.domain}"
            person, _company = services.match_customer(
                workspace, email=email, name=f"{first} {last}"
            )
            people.append(person)
    # The demand-weighted scoring model the PM uses for this product.
    model = backlog_services.create_scoring_model(
        pm,
        product=product,
        name="Customer demand",
        kind="weighted",
        criteria=[
            {"name": "Customer demand", "source": "demand", "weight": 4, "min": 0, "max": 15000},
            {"name": "Customer value", "source": "value", "weight": 3, "min": 0, "max": 10},
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
    backlog_services.activate_scoring_model(pm, product=product, model=model)
    items = {i.title: i for i in Item.objects.filter(product=product)}
    backlog_services.recompute_scores(product.pk)
    # Every item starts at demand 0 (nobody asked yet), so it has a score to move from.
    for item in items.values():
        backlog_services.set_item_demand(
            item_id=item.pk, demand=0.0, detail="No customer feedback linked yet"
        )

    feedback_rows = []
    # Themed feedback: each theme is asked for by several customers, big and small.
    theme_titles = [t for t in THEMES if t in items]
    weights = {t: len(THEMES[t]) for t in theme_titles}
    for n in range(280):
        title = rng.choices(theme_titles, weights=[weights[t] for t in theme_titles])[0]
        text = rng.choice(THEMES[title])
        person = rng.choice(people)
        age = rng.expovariate(1 / 70)
        feedback = services.create_feedback(
            rng.choice([pm, alex]),
            product=product,
            text=text,
            source=rng.choice(SOURCES),
            person=person,
            received_at=now - dt.timedelta(days=min(age, 400), hours=rng.randint(0, 23)),
            tags=rng.sample(["checkout", "eu", "finance", "support", "churn-risk", "renewal"], 1),
            external_id=f"demo-{n}",
        )
        feedback_rows.append((feedback, title))
    for n, text in enumerate(UNLINKED * 3):
        person = rng.choice(people + [None] * 5)
        services.create_feedback(
            pm,
            product=product,
            text=text,
            source=rng.choice(SOURCES),
            person=person,
            # Each text arrives once recently; its repeats are older (the inbox
            # flags them as likely duplicates without leading with them).
            received_at=now
            - dt.timedelta(days=rng.uniform(0, 30) if n < len(UNLINKED) else rng.uniform(30, 120)),
            external_id=f"demo-unlinked-{n}",
        )
    # Triage: most themed feedback becomes insights; the newest stays in the inbox.
    feedback_rows.sort(key=lambda row: row[0].received_at)
    to_triage = feedback_rows[: int(len(feedback_rows) * 0.8)]
    for feedback, title in to_triage:
        item = items[title]
        text = feedback.text
        cut = text.find(". ")
        end = cut + 1 if 0 < cut < len(text) - 2 and rng.random() < 0.5 else len(text)
        importance = rng.choices(
            [Importance.NICE_TO_HAVE, Importance.IMPORTANT, Importance.CRITICAL],
            weights=[3, 5, 2],
        )[0]
        services.link_feedback(
            rng.choice([pm, alex]),
            feedback=feedback,
            item=item,
            importance=importance,
            start=0,
            end=end,
        )
    for feedback, _title in rng.sample(feedback_rows[len(to_triage) :], 8):
        services.set_feedback_state(pm, feedback=feedback, state="archived")
    # Demand now, synchronously, so each item's score history says why it moved.
    services.recompute_demand(
        list(Item.objects.filter(product=product).values_list("pk", flat=True))
    )

    # The public portal with ideas and verified votes.
    services.update_portal_settings(
        pm,
        product=product,
        expected_version=None,
        fields={
            "enabled": True,
            "title": "Acme Pay ideas",
            "intro": "Tell us what would make payments easier for your shop, and vote on ideas.",
        },
    )
    for title, public_title, description in PUBLIC:
        if title in items:
            services.publish_idea(
                pm, item=items[title], public_title=public_title, public_description=description
            )
    declined = Item.objects.filter(product=product, status="declined").order_by("number").first()
    if declined is not None:
        services.publish_idea(
            pm,
            item=declined,
            public_title=declined.title,
            public_description="Suggested by several shops on the portal.",
        )
    ideas = list(PublicIdea.objects.filter(product=product))
    voter = 0
    for idea in ideas:
        for _ in range(rng.randint(2, 25)):
            voter += 1
            vote = services.cast_vote(
                idea=idea, email=f"shopper{voter}@example.net", ip=f"demo-{voter}"
            )
            services.confirm_vote(services.vote_token(vote))
