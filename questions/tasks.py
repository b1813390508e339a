from celery import shared_task

from . import services

RETRY = {"autoretry_for": (ConnectionError, OSError), "retry_backoff": True, "max_retries": 5}


@shared_task(acks_late=True, **RETRY)
def send_question_verification(question_id: int) -> bool:
    """Email the link that makes a stakeholder's question count."""
    return services.send_question_verification(question_id)


@shared_task(acks_late=True, **RETRY)
def send_vote_verification(vote_id: int) -> bool:
    """Email the link that makes a +1 count."""
    return services.send_vote_verification(vote_id)


@shared_task(acks_late=True, **RETRY)
def send_answer_email(email_id: int) -> bool:
    """Send one pending answer email (claimed first; idempotent)."""
    return services.send_answer_email(email_id)


@shared_task(acks_late=True)
def sweep_answer_emails() -> int:
    """Periodic: send answer emails whose task never ran or died."""
    return services.sweep_answer_emails()
