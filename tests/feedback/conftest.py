import uuid

import pytest

from feedback import services
from tests.backlog.factories import make_item


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Rate-limit counters live in the cache: each test gets a cache of its
    own, so it starts from zero. (Clearing a shared Redis cache instead would
    also flush the Celery broker on the same database, and the counters of
    tests running in parallel.)"""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"feedback-test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def items(product, pm):
    return {
        "sepa": make_item(
            product,
            pm,
            title="SEPA Direct Debit mandates",
            description="Collect direct debit mandates from EU bank accounts.",
        ),
        "apple": make_item(
            product,
            pm,
            title="Apple Pay on the hosted checkout",
            description="Wallet payments for iPhone shoppers.",
        ),
        "xero": make_item(
            product,
            pm,
            title="Export payouts to Xero",
            description="Accounting integration for bookkeepers.",
        ),
        "dark": make_item(
            product,
            pm,
            title="Dark mode for the merchant dashboard",
            description="A dark theme.",
        ),
        "retry": make_item(
            product,
            pm,
            title="Smart retries for soft declines",
            description="Recover declined card payments automatically.",
        ),
        "search": make_item(
            product,
            pm,
            title="Search payments by last four digits",
            description="Support finds a payment by the card's last 4.",
        ),
    }


@pytest.fixture
def feedback(product, pm):
    return services.create_feedback(
        pm,
        product=product,
        text="We need SEPA direct debit for our German customers. Cards are rare there.",
        email="Maria@Globex.example",
        name="Maria",
    )


@pytest.fixture
def portal(product, pm):
    return services.update_portal_settings(
        pm, product=product, expected_version=None, fields={"enabled": True}
    )


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): ...`` runs the after-commit callbacks (the enqueued
    demand recompute, eager in tests) as a real commit would."""

    def context():
        return django_capture_on_commit_callbacks(execute=True)

    return context
