"""An import checks the manifest, refuses newer formats, and is all or nothing."""

import json

import pytest
from django.core.exceptions import ValidationError

from archive.format import SCHEMA_VERSION
from archive.models import ArchiveJob
from archive.services import import_into_new_workspace, start_import
from backlog.models import Item
from pmhub.accounts.models import Membership, Workspace
from pmhub.accounts.services import create_workspace
from pmhub.activity.models import Event
from products.models import Product
from tests.backlog.factories import make_item
from tests.factories import ProductFactory

from .conftest import export_bytes, rewrite, upload


@pytest.fixture
def archive(product, pm):
    make_item(product, pm, title="Checkout")
    return export_bytes(product.workspace)


def set_manifest(**changes):
    def change(old):
        manifest = json.loads(old)
        manifest.update(changes)
        return json.dumps(manifest)

    return change


def file_error(excinfo) -> str:
    return " ".join(excinfo.value.message_dict["file"])


def test_an_archive_from_a_newer_format_is_refused_with_a_clear_message(archive, pm):
    newer = rewrite(archive, **{"manifest.json": set_manifest(schema_version=SCHEMA_VERSION + 1)})
    with pytest.raises(ValidationError) as excinfo:
        import_into_new_workspace(pm, name="Copy", upload=upload(newer))
    assert "newer PMHub" in file_error(excinfo)
    assert "Upgrade PMHub" in file_error(excinfo)
    assert not Workspace.objects.filter(name="Copy").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a zip", "not a zip file"),
        ("broken", "manifest.json is damaged"),
        ({"format": "other"}, "does not name the format"),
        ({"schema_version": "1"}, "no schema version"),
        ({"parts": "x"}, "list of parts is damaged"),
    ],
)
def test_a_corrupt_manifest_is_refused_with_a_clear_message(archive, pm, data, message):
    if isinstance(data, bytes):
        bad = data
    elif isinstance(data, str):
        bad = rewrite(archive, **{"manifest.json": b"{ not json"})
    else:
        bad = rewrite(archive, **{"manifest.json": set_manifest(**data)})
    with pytest.raises(ValidationError) as excinfo:
        import_into_new_workspace(pm, name="Copy", upload=upload(bad))
    assert message in file_error(excinfo)


def run(pm, data, capture):
    with capture(execute=True):
        job = import_into_new_workspace(pm, name="Copy", upload=upload(data))
    job.refresh_from_db()
    return job


def test_a_changed_file_fails_its_checksum_and_nothing_is_imported(
    archive, pm, django_capture_on_commit_callbacks
):
    changed = rewrite(archive, **{"items.jsonl": lambda old: old.replace(b"Checkout", b"Hacked")})
    job = run(pm, changed, django_capture_on_commit_callbacks)
    assert job.state == ArchiveJob.State.FAILED
    assert "does not match its checksum" in job.error
    assert not Product.objects.filter(workspace=job.workspace).exists()


def test_a_failure_in_a_late_part_rolls_back_everything_before_it(
    archive, pm, django_capture_on_commit_callbacks
):
    """A row that refers to nothing, with a checksum that matches: products and
    items were inserted before the bad part, and nothing of them stays."""
    import hashlib

    line = b'{"id":1,"item":999,"marked_at":"2026-01-01T00:00:00+00:00"}\n'

    def manifest(old):
        m = json.loads(old)
        for p in m["parts"]:
            if p["name"] == "demand_queue":
                p["rows"], p["sha256"] = 1, hashlib.sha256(line).hexdigest()
        return json.dumps(m)

    bad = rewrite(archive, **{"demand_queue.jsonl": line, "manifest.json": manifest})
    job = run(pm, bad, django_capture_on_commit_callbacks)
    assert job.state == ArchiveJob.State.FAILED
    assert "In the part demand_queue" in job.error and "backlog.item 999" in job.error
    ws = job.workspace
    assert not Product.objects.filter(workspace=ws).exists()
    assert not Item.objects.filter(product__workspace=ws).exists()
    # The empty workspace keeps its owner, so the import can be tried again.
    assert Membership.objects.filter(workspace=ws, user=pm, role="owner").exists()


def test_only_an_empty_workspace_takes_an_import(archive, pm):
    ws = create_workspace(pm, name="Busy")
    ProductFactory(workspace=ws, key="BSY")
    with pytest.raises(ValidationError) as excinfo:
        start_import(pm, workspace=ws, upload=upload(archive))
    assert "new, empty workspace" in file_error(excinfo)


@pytest.mark.django_db(transaction=True)
def test_imported_events_are_history_that_no_consumer_acts_on(archive, pm):
    """Committed for real: on PostgreSQL consumers see only final events."""
    from pmhub.activity import consumers

    seen = []
    consumers.register("test-archive-seen", lambda events: seen.extend(e.id for e in events))
    try:
        job = import_into_new_workspace(pm, name="Copy", upload=upload(archive))
        job.refresh_from_db()
        assert job.state == ArchiveJob.State.DONE, job.error
        consumers.dispatch("test-archive-seen")
    finally:
        consumers.unregister("test-archive-seen")
    imported = Event.objects.filter(workspace=job.workspace).exclude(verb="workspace.imported")
    assert imported.exists()
    assert not set(imported.values_list("id", flat=True)) & set(seen)
    own = Event.objects.get(workspace=job.workspace, verb="workspace.imported")
    assert own.id in seen
