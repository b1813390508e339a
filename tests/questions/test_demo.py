import io

from django.core.management import call_command

from feedback.models import Feedback, Source
from questions.models import Question
from questions.services import questions_allowed


def test_the_demo_link_takes_questions_and_one_waits_for_an_answer(db, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    for _run in range(2):  # every run rotates the link; the question follows it
        call_command("seed_demo", stdout=io.StringIO())
        question = Question.objects.select_related("share_link").get()
        assert question.share_link.is_live and questions_allowed(question.share_link)
        assert question.verified_at is not None and not question.answer
    feedback = Feedback.objects.get(source=Source.SHARED_ROADMAP)
    assert question.feedback == feedback and feedback.insights.count() == 1
