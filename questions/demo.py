"""Demo questions: the demo share link (rotated on every seed by roadmaps/)
takes questions, and one stakeholder question on it — confirmed, in the
Acme Pay feedback inbox, waiting for the PM's answer. The question is
asked once, through the same services as a stakeholder's; later seeds carry
it over to the fresh link."""

from roadmaps.demo import DEMO_LINK_LABEL
from roadmaps.models import ShareLink

from . import services
from .models import Question

ASKER = "morgan.lee@board.example"
TEXT = (
    "Will one-click checkout also work for our B2B customers who pay by invoice? "
    "Sales keeps getting asked and we would like a date to give them."
)


def seed(*, workspace, users) -> bool:
    links = list(
        ShareLink.objects.filter(roadmap__workspace=workspace, label=DEMO_LINK_LABEL)
        .select_related("roadmap__workspace")
        .order_by("-created_at", "-id")
    )
    live = next((link for link in links if link.is_live), None)
    if live is None:
        return False
    owner = users["demo"]
    services.set_questions_allowed(owner, link=live, allowed=True)
    services.carry_over_questions(owner, old_links=links[1:], new_link=live)
    if Question.objects.filter(share_link__roadmap__workspace=workspace, email=ASKER).exists():
        return False
    entry = (
        live.roadmap.entries.filter(item__title="One-click checkout").first()
        or live.roadmap.entries.filter(item__isnull=False).order_by("rank").first()
    )
    if entry is None:
        return False
    question = services.ask_question(
        link=live, entry_id=entry.pk, text=TEXT, email=ASKER, ip="seed-demo"
    )
    services.confirm_question(services.question_token(question))
    return True
