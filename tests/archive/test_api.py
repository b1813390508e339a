import pytest

from archive.models import ArchiveJob
from tests.backlog.factories import make_item
from tests.conftest import api_client_for

from .conftest import contents, export_bytes

JOBS = "/api/v1/archive-jobs/"


def test_owner_exports_through_the_api(
    api, workspace, product, pm, django_capture_on_commit_callbacks
):
    make_item(product, pm, title="Checkout")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(JOBS + "export/", {"workspace": workspace.pk}, format="json")
    assert response.status_code == 202, response.json()
    job = api.get(f"{JOBS}{response.json()['id']}/").json()
    assert job["state"] == "done" and job["percent"] == 100
    download = api.get(job["download_url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert contents(data) == contents(export_bytes(workspace)) | {
        "manifest.json": contents(data)["manifest.json"]
    }
    assert [j["id"] for j in api.get(JOBS).json()["results"]] == [job["id"]]


@pytest.mark.parametrize("who", ["teammate", "viewer", "admin_member"])
def test_only_owners_export(request, workspace, who):
    client = api_client_for(request.getfixturevalue(who))
    assert (
        client.post(JOBS + "export/", {"workspace": workspace.pk}, format="json").status_code == 403
    )
    assert not ArchiveJob.objects.exists()


def test_a_stranger_cannot_name_the_workspace_or_see_its_jobs(workspace, pm, stranger):
    job = ArchiveJob.objects.create(kind="export", workspace=workspace, created_by=pm)
    client = api_client_for(stranger)
    response = client.post(JOBS + "export/", {"workspace": workspace.pk}, format="json")
    assert response.status_code == 400 and "workspace" in response.json()
    assert client.get(f"{JOBS}{job.pk}/").status_code == 404
    assert client.get(f"{JOBS}{job.pk}/download/").status_code == 404
    assert client.get(JOBS).json()["results"] == []


def test_import_through_the_api(api, product, pm, django_capture_on_commit_callbacks):
    make_item(product, pm, title="Checkout")
    data = export_bytes(product.workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            JOBS + "import/?name=Acme+copy", data=data, content_type="application/zip"
        )
    assert response.status_code == 202, response.json()
    job = ArchiveJob.objects.get(pk=response.json()["id"])
    assert job.state == "done" and job.workspace.name == "Acme copy"
    assert job.workspace.products.get().items.get().title == "Checkout"


def test_import_refuses_a_bad_body_and_unknown_parameters(api):
    bad = api.post(JOBS + "import/", data=b"nope", content_type="application/zip")
    assert bad.status_code == 400 and "not a zip file" in bad.json()["file"][0]
    odd = api.post(JOBS + "import/?nmae=x", data=b"nope", content_type="application/zip")
    assert odd.status_code == 400 and "nmae" in odd.json()
    assert api.post(JOBS + "import/", {"a": 1}, format="json").status_code == 415


def test_unknown_list_parameters_are_a_400(api):
    assert api.get(JOBS + "?stauts=done").status_code == 400
