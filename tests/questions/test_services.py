"""Questions: asking, confirming (feedback in the inbox, linked to the
entry's item), +1s, answers and their durable emails, abuse limits."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from feedback.models import Feedback, Source, State
from pmhub.activity.models import Event
from pmhub.errors import VersionConflict
from pmhub.ratelimit import RateLimited
from questions import services
from questions.models import AnswerEmail, Question, QuestionVote


def ask(link, entry, **kw):
    return services.ask_question(
        link=link,
        entry_id=entry.pk,
        text=kw.pop("text", "Will it work for invoices?"),
        email=kw.pop("email", "sam@board.example"),
        ip=kw.pop("ip", "203.0.113.5"),
        **kw,
    )


def asked_and_confirmed(link, entry, **kw):
    question = ask(link, entry, **kw)
    return services.confirm_question(services.question_token(question))


def test_a_confirmed_question_lands_in_the_inbox_linked_to_the_item(
    link, entry, mailoutbox, committed
):
    with committed():
        question = ask(link[0], entry)
    assert question.verified_at is None and question.feedback is None
    assert not Feedback.objects.exists()  # nothing reaches the inbox unconfirmed
    [message] = mailoutbox
    assert message.to == ["sam@board.example"]
    token = re.search(r"/question-confirm/([^/\s]+)/", message.body).group(1)
    question = services.confirm_question(token)
    feedback = question.feedback
    assert feedback.source == Source.SHARED_ROADMAP and feedback.state == State.NEW
    assert feedback.person.email == "sam@board.example"
    assert "Will it work for invoices?" in feedback.text and "Apple Pay" in feedback.text
    assert list(feedback.insights.values_list("item_id", flat=True)) == [entry.item_id]
    # A second click changes nothing.
    again = services.confirm_question(services.question_token(question))
    assert again.feedback_id == feedback.pk and Feedback.objects.count() == 1
    event = Event.objects.get(verb="question.asked")
    assert event.actor_kind == "visitor" and event.actor_label == "sam@board.example"


def test_a_forged_or_foreign_token_is_refused(link, entry):
    with pytest.raises(ValidationError):
        services.confirm_question("nonsense")
    question = ask(link[0], entry)
    vote_like = services.vote_token(QuestionVote(pk=question.pk))
    with pytest.raises(ValidationError):
        services.confirm_question(vote_like)  # another salt


def test_questions_off_means_refused(quiet_link, entry):
    with pytest.raises(PermissionDenied):
        ask(quiet_link[0], entry)


def test_an_entry_the_audience_cannot_see_or_of_another_roadmap_is_refused(
    link, nnl, pm, items, timeline
):
    hidden = nnl.entries.get(item=items[2])  # exploring: hidden by the link
    other = timeline.entries.first()
    for entry_id in (hidden.pk, other.pk, "x", None, 10**12):
        with pytest.raises(ValidationError) as exc:
            services.ask_question(
                link=link[0], entry_id=entry_id, text="?", email="a@b.example", ip="1.2.3.4"
            )
        assert "entry" in exc.value.message_dict
    assert not Question.objects.exists()


@pytest.mark.parametrize(
    ("text", "email", "field"),
    [
        ("x" * 10_000, "a@b.example", "text"),
        ("", "a@b.example", "text"),
        ("ok", "<script>alert(1)</script>", "email"),
        ("ok", "", "email"),
        ("ok", "a@b.example" + "x" * 300, "email"),
        ("nul\x00", "a@b.example", "text"),
    ],
)
def test_bad_input_is_a_field_error_and_stores_nothing(link, entry, text, email, field):
    with pytest.raises(ValidationError) as exc:
        ask(link[0], entry, text=text, email=email)
    assert field in exc.value.message_dict
    assert not Question.objects.exists()


def test_ten_thousand_characters_say_how_long_is_allowed(link, entry):
    with pytest.raises(ValidationError) as exc:
        ask(link[0], entry, text="x" * 10_000)
    assert exc.value.message_dict["text"] == [
        "Your question is too long (10000 characters; 2000 at most)."
    ]


def test_honeypot_stores_nothing(link, entry, mailoutbox, committed):
    with committed(), pytest.raises(services.Honeypot):
        ask(link[0], entry, honeypot="http://spam.example")
    assert not Question.objects.exists() and not mailoutbox


def test_twenty_questions_a_minute_are_throttled_and_the_rest_stored_nowhere(link, entry):
    stored = refused = 0
    for n in range(20):
        try:
            ask(link[0], entry, text=f"Question {n}")
            stored += 1
        except RateLimited as exc:
            refused += 1
            assert exc.status_code == 429
    assert refused > 0
    assert Question.objects.count() == stored == services.ASK_LIMIT[0]
    # Another address with the same email is throttled too (per email).
    with pytest.raises(RateLimited):
        ask(link[0], entry, ip="198.51.100.7")


def test_plus_ones_count_once_confirmed_and_only_on_their_link(
    link, quiet_link, entry, pm, mailoutbox, committed
):
    question = asked_and_confirmed(link[0], entry)
    with committed():
        vote = services.plus_one(
            link=link[0], question_id=question.pk, email="Kim@Board.example", ip="1.2.3.4"
        )
    assert vote.email == "kim@board.example" and vote.verified_at is None
    token = re.search(r"/question-plus-one/([^/\s]+)/", mailoutbox[-1].body).group(1)
    services.confirm_vote(token)
    assert Question.objects.for_entry_block(link[0], entry).get().plus_ones == 1
    # The same address again changes nothing.
    services.plus_one(
        link=link[0], question_id=question.pk, email="kim@board.example", ip="1.2.3.4"
    )
    assert QuestionVote.objects.count() == 1
    # Through another link, the question does not exist.
    services.set_questions_allowed(pm, link=quiet_link[0], allowed=True)
    with pytest.raises(ValidationError):
        services.plus_one(
            link=quiet_link[0], question_id=question.pk, email="x@y.example", ip="1.2.3.4"
        )
    assert not Question.objects.for_entry_block(quiet_link[0], entry).exists()


def test_an_unconfirmed_question_cannot_be_plus_oned_or_answered(link, entry, pm):
    question = ask(link[0], entry)
    with pytest.raises(ValidationError):
        services.plus_one(link=link[0], question_id=question.pk, email="x@y.example", ip="1")
    with pytest.raises(ValidationError):
        services.answer_question(pm, question=question, answer="Yes", expected_version=None)


def test_the_answer_reaches_the_asker_and_the_plus_ones_once_each(
    link, entry, pm, mailoutbox, committed
):
    question = asked_and_confirmed(link[0], entry)
    vote = services.plus_one(link=link[0], question_id=question.pk, email="kim@b.example", ip="1")
    services.confirm_vote(services.vote_token(vote))
    services.plus_one(link=link[0], question_id=question.pk, email="unconfirmed@b.example", ip="1")
    mailoutbox.clear()
    with committed():
        question = services.answer_question(
            pm, question=question, answer="Yes, <b>in Q3</b>.", expected_version=question.version
        )
    assert sorted(m.to[0] for m in mailoutbox) == ["kim@b.example", "sam@board.example"]
    for message in mailoutbox:
        assert "Yes, <b>in Q3</b>." in message.body  # plain text: shown as typed, never as HTML
        assert not message.alternatives
    assert AnswerEmail.objects.filter(sent_at__isnull=False).count() == 2
    # Running the tasks or the sweep again sends nothing more.
    for row in AnswerEmail.objects.all():
        assert services.send_answer_email(row.pk) is False
    assert services.sweep_answer_emails() == 0
    assert len(mailoutbox) == 2
    assert Event.objects.filter(verb="question.answered").count() == 1


def test_answers_are_version_checked(link, entry, pm, teammate):
    question = asked_and_confirmed(link[0], entry)
    version = question.version
    services.answer_question(teammate, question=question, answer="Theirs", expected_version=version)
    stale = Question.objects.get(pk=question.pk)
    with pytest.raises(VersionConflict):
        services.answer_question(pm, question=stale, answer="Mine", expected_version=version)
    assert Question.objects.get(pk=question.pk).answer == "Theirs"


def test_viewers_cannot_answer(link, entry, viewer, stranger):
    question = asked_and_confirmed(link[0], entry)
    for user in (viewer, stranger):
        with pytest.raises(PermissionDenied):
            services.answer_question(user, question=question, answer="x", expected_version=None)


def test_a_broker_outage_delays_the_answer_and_the_sweep_sends_it(
    link, entry, pm, mailoutbox, committed, monkeypatch
):
    import datetime as dt

    from django.utils import timezone

    from questions import tasks

    question = asked_and_confirmed(link[0], entry)

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_answer_email, "delay", broker_down)
    mailoutbox.clear()
    with committed():
        services.answer_question(pm, question=question, answer="Soon", expected_version=None)
    assert not mailoutbox
    assert AnswerEmail.objects.unsent().count() == 1
    assert services.sweep_answer_emails() == 0  # younger than a minute: its task may still run
    AnswerEmail.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))
    assert services.sweep_answer_emails() == 1
    assert [m.to for m in mailoutbox] == [["sam@board.example"]]
    assert services.sweep_answer_emails() == 0


def test_a_mail_server_error_releases_the_claim(link, entry, pm, monkeypatch):
    question = asked_and_confirmed(link[0], entry)
    from questions.services import answers

    monkeypatch.setattr(answers.transaction, "on_commit", lambda fn: None)
    services.answer_question(pm, question=question, answer="Soon", expected_version=None)
    row = AnswerEmail.objects.get()

    def smtp_down(*args, **kwargs):
        raise OSError("smtp down")

    monkeypatch.setattr(answers, "send_mail", smtp_down)
    with pytest.raises(OSError):
        services.send_answer_email(row.pk)
    row.refresh_from_db()
    assert row.claimed_at is None and row.sent_at is None


def test_switching_questions_is_for_admins_and_moves_the_etag(link, pm, teammate):
    share, _token = link
    version = type(share).objects.get(pk=share.pk).version
    with pytest.raises(PermissionDenied):
        services.set_questions_allowed(teammate, link=share, allowed=False)
    services.set_questions_allowed(pm, link=share, allowed=False)
    assert type(share).objects.get(pk=share.pk).version == version + 1
    assert not services.questions_allowed(share)
    assert Event.objects.filter(verb="share_link.questions_changed").count() == 2


def test_a_title_with_a_line_break_makes_a_one_line_subject(link, entry, mailoutbox, committed):
    from roadmaps.models import Entry

    Entry.objects.filter(pk=entry.pk).update(item=None, title="Line one\nLine two")
    with committed():
        ask(link[0], Entry.objects.get(pk=entry.pk))
    assert mailoutbox[-1].subject == "Confirm your question: Line one Line two"


def test_the_entry_block_reads_a_constant_number_of_queries(
    link, entry, django_assert_max_num_queries
):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("roadmaps:shared-entry", args=[link[1], entry.pk])
    asked_and_confirmed(link[0], entry)
    with CaptureQueriesContext(connection) as small:
        assert Client().get(url).status_code == 200
    for n in range(5):
        asked_and_confirmed(link[0], entry, email=f"p{n}@b.example", ip=f"ip{n}")
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert Client().get(url).content.count(b'class="q-item"') == 6
