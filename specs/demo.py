"""Demo specs: two items of Acme Pay carry a spec engineering reviewed — the
"One-click checkout" epic approved by Alex, "Smart retries for soft
declines" sent back with changes requested after a second version. Created
once, through the services (every write recorded)."""

from backlog.models import Item

from . import services
from .models import Spec, Verdict

CHECKOUT = {
    "problem": (
        "Returning shoppers retype their card and address on every purchase. "
        "A third of mobile checkouts that start are abandoned at the card form."
    ),
    "goals": (
        "- A returning shopper pays in one tap on a device they used before.\n"
        "- Mobile checkout conversion up 8 % in the quarter after launch."
    ),
    "non_goals": "- Guest checkout changes.\n- Wallets (Apple Pay, Google Pay): their own items.",
    "requirements": (
        "1. Save the card (network token) with the shopper's consent.\n"
        "2. Recognise the shopper by a signed device cookie plus email.\n"
        "3. Step up to 3-D Secure when the risk score asks for it."
    ),
    "acceptance_criteria": (
        "- Given a saved card, when the shopper taps **Pay**, the order is placed "
        "without another form.\n"
        "- Removing a saved card takes effect at once on every device."
    ),
    "open_questions": "- Do we keep saved cards for 13 or 24 months? (Legal, by the 15th.)",
}
RETRIES = {
    "problem": "Soft declines (insufficient funds, do-not-honour) lose 4 % of renewals.",
    "goals": "- Recover half of soft-declined renewals within 7 days.",
    "non_goals": "- Hard declines (stolen card): never retried.",
    "requirements": "1. Retry soft declines on a schedule.\n2. Stop after 4 attempts.",
    "acceptance_criteria": "- A soft decline is retried; a hard decline never is.",
    "open_questions": "- Which schedule? Day 1, 3, 5, 7 or by payday?",
}
RETRIES_V2 = {
    "requirements": (
        "1. Retry soft declines on a schedule tuned per issuer.\n"
        "2. Stop after 4 attempts.\n"
        "3. Email the customer before the last attempt."
    ),
}


def seed(*, workspace, users) -> bool:
    if Spec.objects.filter(item__product__workspace=workspace).exists():
        return False
    pm, engineer = users["demo"], users["alex"]
    items = {
        i.title: i
        for i in Item.objects.filter(
            product__workspace=workspace,
            product__key="PAY",
            title__in=["One-click checkout", "Smart retries for soft declines"],
        ).select_related("product__workspace")
    }
    if len(items) < 2:
        return False
    approved = services.create_spec(pm, item=items["One-click checkout"], **CHECKOUT)
    services.request_review(pm, spec=approved, reviewers=[engineer])
    services.decide_review(
        engineer,
        spec=approved,
        verdict=Verdict.APPROVED,
        comment="Clear and buildable. Tokens first, then the device cookie.",
    )
    retries = services.create_spec(pm, item=items["Smart retries for soft declines"], **RETRIES)
    retries = services.update_spec(
        pm, spec=retries, expected_version=retries.version, fields=RETRIES_V2
    )
    services.request_review(pm, spec=retries, reviewers=[engineer])
    services.decide_review(
        engineer,
        spec=retries,
        verdict=Verdict.CHANGES_REQUESTED,
        comment="Per-issuer tuning needs data we do not have yet: start with one fixed "
        "schedule, and say how we measure recovery.",
    )
    return True
