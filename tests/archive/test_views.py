"""The export and import page is the owners'; strangers get 404; a CSV
export's download link is its starter's and expires."""

import datetime

import pytest
from django.utils import timezone

from archive.models import ArchiveJob
from tests.backlog.factories import make_item

from .conftest import export_bytes, upload

PAGE = "/w/acme/archive/"


def test_owner_sees_the_page(as_user, pm):
    response = as_user(pm).get(PAGE)
    assert response.status_code == 200
    assert b"Export workspace" in response.content
    assert b"Import into a new workspace" in response.content


@pytest.mark.parametrize("who", ["admin_member", "teammate", "viewer"])
def test_other_members_may_not_export_or_import(as_user, request, who):
    user = request.getfixturevalue(who)
    assert as_user(user).get(PAGE).status_code == 403
    assert as_user(user).post(PAGE + "export/").status_code == 403
    assert not ArchiveJob.objects.exists()


def test_stranger_gets_404(as_user, stranger, pm):
    assert as_user(stranger).get(PAGE).status_code == 404
    assert as_user(stranger).post(PAGE + "export/").status_code == 404


def test_export_runs_in_the_background_and_offers_a_download(
    as_user, pm, product, django_capture_on_commit_callbacks
):
    make_item(product, pm, title="Checkout")
    client = as_user(pm)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PAGE + "export/")
    job = ArchiveJob.objects.get()
    assert response.status_code == 302 and response.url == f"/w/acme/jobs/{job.pk}/"
    page = client.get(response.url)
    assert b"Download" in page.content
    download = client.get(f"/w/acme/jobs/{job.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert b"manifest.json" in b"".join(download.streaming_content)


def test_an_export_job_is_hidden_from_members_who_are_not_owners(
    as_user, pm, teammate, stranger, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        as_user(pm).post(PAGE + "export/")
    job = ArchiveJob.objects.get()
    for user in (teammate, stranger):
        assert as_user(user).get(f"/w/acme/jobs/{job.pk}/").status_code == 404
        assert as_user(user).get(f"/w/acme/jobs/{job.pk}/download/").status_code == 404


def test_import_page_creates_a_new_workspace_and_imports_into_it(
    as_user, pm, product, django_capture_on_commit_callbacks
):
    make_item(product, pm, title="Checkout")
    data = export_bytes(product.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(pm).post(PAGE + "import/", {"name": "Acme copy", "file": upload(data)})
    job = ArchiveJob.objects.get(kind="import")
    assert response.status_code == 302
    assert response.url == f"/w/{job.workspace.slug}/jobs/{job.pk}/"
    job.refresh_from_db()
    assert job.state == "done" and job.workspace.name == "Acme copy"
    assert job.workspace.products.get().items.get().title == "Checkout"


def test_a_bad_archive_is_a_form_error(as_user, pm):
    response = as_user(pm).post(PAGE + "import/", {"name": "X", "file": upload(b"nope")})
    assert response.status_code == 400
    assert b"not a zip file" in response.content


def test_job_progress_is_an_htmx_partial(as_user, pm, workspace):
    job = ArchiveJob.objects.create(
        kind="export", workspace=workspace, created_by=pm, state="running", total=10, done=4
    )
    response = as_user(pm).get(f"/w/acme/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert b'id="job-progress"' in response.content
    assert b"<html" not in response.content
    assert b'value="40"' in response.content


def test_a_big_backlog_export_runs_in_the_background(
    as_user, pm, teammate, product, django_capture_on_commit_callbacks, monkeypatch
):
    from backlog.views import export

    monkeypatch.setattr(export, "STREAM_MAX_ITEMS", 2)
    for n in range(3):
        make_item(product, pm, title=f"=cmd {n}")
    client = as_user(teammate)
    response = client.get("/w/acme/p/PAY/backlog/export/?q=cmd")
    assert response.status_code == 302 and "/backlog/export/background/?q=cmd" in response.url
    offer = client.get(response.url)
    assert b'name="q" value="cmd"' in offer.content
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/w/acme/p/PAY/backlog/export/background/start/", {"q": "cmd"})
    job = ArchiveJob.objects.get(kind="items_csv")
    assert started.url == f"/w/acme/jobs/{job.pk}/"
    body = b"".join(client.get(f"/w/acme/jobs/{job.pk}/download/").streaming_content)
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("key,title")
    assert len(lines) == 4 and "'=cmd 0" in body.decode()  # formulas neutralised
    # Only its starter downloads it, and only until it expires.
    assert as_user(pm).get(f"/w/acme/jobs/{job.pk}/download/").status_code == 404
    ArchiveJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - datetime.timedelta(1))
    assert client.get(f"/w/acme/jobs/{job.pk}/download/").status_code == 404


def test_a_job_runs_once(pm, workspace, django_capture_on_commit_callbacks):
    from archive import services

    with django_capture_on_commit_callbacks(execute=True):
        job = services.start_export(pm, workspace=workspace)
    job.refresh_from_db()
    assert job.state == "done"
    assert services.run_job(job.pk) == "skipped"  # a redelivered task does nothing


def test_the_sweep_requeues_lost_jobs_and_deletes_expired_files(pm, workspace, media):
    from unittest import mock

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from archive import services, tasks

    old = timezone.now() - datetime.timedelta(hours=1)
    lost = ArchiveJob.objects.create(kind="export", workspace=workspace, created_by=pm)
    ArchiveJob.objects.filter(pk=lost.pk).update(created_at=old)
    fresh = ArchiveJob.objects.create(kind="export", workspace=workspace, created_by=pm)
    name = default_storage.save("exports/acme/old.zip", ContentFile(b"zip"))
    expired = ArchiveJob.objects.create(
        kind="export", workspace=workspace, state="done", file_name=name, expires_at=old
    )
    with mock.patch.object(tasks.run_archive_job, "delay") as delay:
        assert services.sweep_jobs() == {"requeued": 1, "deleted": 1}
    delay.assert_called_once_with(lost.pk)
    assert not default_storage.exists(name)
    expired.refresh_from_db()
    assert expired.file_name == "" and fresh.state == "queued"
