import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from archive import exporting
from pmhub.accounts.models import Membership, Role, Workspace


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True  # seed_demo refuses to run with DEBUG off
    call_command("seed_demo", stdout=io.StringIO())
    return Workspace.objects.order_by("pk").first()


def owner_of(workspace):
    return Membership.objects.filter(workspace=workspace, role=Role.OWNER).first().user


def export_bytes(workspace) -> bytes:
    buf = io.BytesIO()
    exporting.write_archive(workspace, buf)
    return buf.getvalue()


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("archive.zip", data, content_type="application/zip")


def contents(data: bytes) -> dict:
    """Every file of an archive; the manifest without the export's own timestamp."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    out = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(out.pop("manifest.json"))
    manifest.pop("exported_at")
    out["manifest.json"] = manifest
    return out


def rewrite(data: bytes, **changes) -> bytes:
    """The archive with some files replaced (``changes``: file name → bytes or a
    function of the old bytes)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            new = changes.get(name, src.read(name))
            dst.writestr(name, new(src.read(name)) if callable(new) else new)
    return buf.getvalue()
