"""The broker as the operator's view sees it, always through Celery's
connection pool: a health check or a scrape borrows a connection that stays
open for the next one (``/healthz`` used to open, and close, a new broker
connection on every call)."""

from pmhub.celery import app


def check() -> str:
    """ "" when the broker answers, else the error's class name."""
    try:
        with app.pool.acquire(block=True, timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # the broker is optional for serving pages
        return type(exc).__name__
    return ""


def queue_names() -> list[str]:
    queues = app.conf.task_queues
    names = [q.name for q in queues] if queues else []
    return names or [app.conf.task_default_queue]


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each queue (None when the broker does not answer)."""
    out: dict[str, int | None] = {}
    try:
        with app.pool.acquire(block=True, timeout=2) as conn:
            channel = conn.default_channel
            for name in queue_names():
                try:
                    out[name] = channel.queue_declare(queue=name, passive=True).message_count
                except Exception:  # a queue nobody declared yet holds nothing
                    out[name] = 0
    except Exception:
        return dict.fromkeys(queue_names())
    return out
