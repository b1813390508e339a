from celery import shared_task
from django.db import connection


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def ping(token: str) -> dict:
    """Round trip through the broker, a worker and the database; used by the
    health tooling and the worker integration test."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        (one,) = cursor.fetchone()
    return {"pong": token, "database": one == 1}
