"""Writes of questions/, one module per sub-domain:

- ``settings``: a share link allows questions or not (admins);
- ``asking``: what a stakeholder does on the shared page without an
  account — ask, +1, confirm by the emailed link (rate-limited, honeypot);
- ``answers``: the PM's answer and its durable emails.

Views, the API, tasks and the demo call them as ``services.ask_question(...)``."""

from pmhub.ratelimit import RateLimited

from .answers import answer_question, send_answer_email, sweep_answer_emails
from .asking import (
    ASK_EMAIL_LIMIT,
    ASK_LIMIT,
    MAX_QUESTION,
    Honeypot,
    ask_question,
    confirm_question,
    confirm_vote,
    plus_one,
    question_token,
    send_question_verification,
    send_vote_verification,
    vote_token,
)
from .settings import carry_over_questions, questions_allowed, set_questions_allowed

__all__ = [
    "ASK_EMAIL_LIMIT",
    "ASK_LIMIT",
    "MAX_QUESTION",
    "Honeypot",
    "RateLimited",
    "answer_question",
    "ask_question",
    "carry_over_questions",
    "confirm_question",
    "confirm_vote",
    "plus_one",
    "question_token",
    "questions_allowed",
    "send_answer_email",
    "send_question_verification",
    "send_vote_verification",
    "set_questions_allowed",
    "sweep_answer_emails",
    "vote_token",
]
