import pytest
from django.test import override_settings

from pmhub import activity
from pmhub.webhooks import services

from .receiver import running_receiver


@pytest.fixture
def receiver():
    with running_receiver() as state, override_settings(WEBHOOK_ALLOW_NETWORKS=["127.0.0.0/8"]):
        yield state


@pytest.fixture
def endpoint(pm, workspace, receiver):
    endpoint, secret = services.create_endpoint(pm, workspace=workspace, url=receiver.url)
    endpoint.raw_secret = secret
    return endpoint


def record_event(workspace, verb="item.status_changed", n=1, **extra):
    """An event as a service would record it (no backlog item needed)."""
    return activity.record(
        workspace,
        verb,
        object_type="backlog.item",
        object_id=n,
        object_key=f"PAY-{n}",
        object_title=f"Item {n}",
        changes={"status": ["planned", "in_progress"]},
        version=2,
        **extra,
    )
