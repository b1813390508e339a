"""Questions fixtures: the roadmaps' Now / Next / Later roadmap (reused from
tests/roadmaps), a share link that takes questions and one that does not,
and a cache of its own per test (the rate-limit counters)."""

import re
import uuid

import pytest

from questions import services
from roadmaps import services as roadmaps
from roadmaps.models import Commitment
from tests.roadmaps.conftest import items, nnl, timeline  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _own_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"questions-test-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def link(pm, nnl):  # noqa: F811
    """(ShareLink, raw token) that takes questions; hides exploring entries."""
    link, token = roadmaps.create_share_link(
        pm, roadmap=nnl, label="Board", exclude_commitments=[Commitment.EXPLORING]
    )
    services.set_questions_allowed(pm, link=link, allowed=True)
    return link, token


@pytest.fixture
def quiet_link(pm, nnl):  # noqa: F811
    """(ShareLink, raw token) of the same roadmap, questions off."""
    return roadmaps.create_share_link(pm, roadmap=nnl, label="Investors")


@pytest.fixture
def entry(nnl, items):  # noqa: F811
    return nnl.entries.select_related("item").get(item=items[0])


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    def context():
        return django_capture_on_commit_callbacks(execute=True)

    return context


def confirm_url(message) -> str:
    return re.search(r"https?://\S+|/question-\S+", message.body).group(0)
