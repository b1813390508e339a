"""Export → import → export gives the same archive, apart from the export's
timestamp (archive ids are 1, 2, 3… per part, so database ids never show)."""

from archive import parts
from archive.models import ArchiveJob
from archive.services import import_into_new_workspace

from .conftest import contents, export_bytes, owner_of, upload
from .generate import add_every_kind_of_object


def round_trip(workspace, capture):
    first = export_bytes(workspace)
    with capture(execute=True):
        job = import_into_new_workspace(
            owner_of(workspace), name=workspace.name, upload=upload(first)
        )
    job.refresh_from_db()
    assert job.state == ArchiveJob.State.DONE, job.error
    assert job.workspace != workspace
    second = export_bytes(job.workspace)
    return first, second, job


def assert_same(first, second):
    a, b = contents(first), contents(second)
    assert a["manifest.json"] == b["manifest.json"]
    for name in a:
        assert a[name] == b[name], f"{name} differs after the round trip"


def test_the_demo_workspace_survives_a_round_trip(demo, django_capture_on_commit_callbacks):
    first, second, _job = round_trip(demo, django_capture_on_commit_callbacks)
    assert_same(first, second)


def test_a_workspace_with_every_kind_of_object_survives_a_round_trip(
    demo, django_capture_on_commit_callbacks
):
    add_every_kind_of_object(demo)
    first, second, _job = round_trip(demo, django_capture_on_commit_callbacks)
    assert_same(first, second)
    counts = {p["name"]: p["rows"] for p in contents(first)["manifest.json"]["parts"]}
    empty = [name for name, rows in counts.items() if rows == 0]
    assert empty == [], f"the generated workspace has no rows in {empty}"
    assert set(counts) == {"users"} | {p.name for p in parts.registered()}
