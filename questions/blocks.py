"""The blocks questions/ adds to the shared pages (``roadmaps.shared_blocks``)
and the panel it adds to the feedback inbox (``feedback.panels``). With
questions off a block's context is None: the shared pages carry not a byte
of it."""

from django.db.models import Count, Q

from feedback.models import Source

from . import services
from .models import Question
from .services import MAX_QUESTION


def page_block(request, link, token, *, board=None, **_kw):
    """Under the board: a form to ask about any entry this audience sees."""
    if not services.questions_allowed(link):
        return None
    cards = sorted({(c.title, c.id) for c in (board.cards if board else [])})
    return {
        "token": token,
        "entries": [{"id": pk, "title": title} for title, pk in cards],
        "max_length": MAX_QUESTION,
    }


def entry_block(request, link, token, *, entry=None, **_kw):
    """On an entry's page: this link's confirmed questions about the entry
    (with answers and +1 counts; never an address), and the form to ask."""
    if entry is None or not services.questions_allowed(link):
        return None
    return {
        "token": token,
        "entry": entry,
        "questions": list(Question.objects.for_entry_block(link, entry)),
        "max_length": MAX_QUESTION,
    }


def feedback_panel(request, feedback):
    """The question behind a piece of feedback from a shared roadmap, and
    the answer form (no query for feedback from anywhere else)."""
    if feedback.source != Source.SHARED_ROADMAP:
        return None
    question = (
        Question.objects.filter(feedback=feedback)
        .select_related("share_link__roadmap", "entry__item", "answered_by")
        .annotate(plus_ones=Count("votes", filter=Q(votes__verified_at__isnull=False)))
        .first()
    )
    if question is None:
        return None
    return {
        "question": question,
        "can_edit": getattr(request, "can_edit", False),
        "feedback": feedback,
    }
