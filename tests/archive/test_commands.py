import io

import pytest
from django.core.management import CommandError, call_command

from tests.backlog.factories import make_item

from .conftest import contents


def test_export_then_import_workspace_commands(tmp_path, pm, product):
    make_item(product, pm, title="Checkout")
    path = tmp_path / "acme.zip"
    out = io.StringIO()
    call_command("export_workspace", "acme", str(path), stdout=out)
    assert "Exported Acme" in out.getvalue()
    call_command("import_workspace", str(path), "--owner", "pm", "--name", "Acme 2", stdout=out)
    assert "Imported" in out.getvalue()
    again = tmp_path / "again.zip"
    from pmhub.accounts.models import Workspace

    slug = Workspace.objects.get(name="Acme 2").slug
    call_command("export_workspace", slug, str(again), stdout=out)
    first, second = contents(path.read_bytes()), contents(again.read_bytes())
    assert second["manifest.json"].pop("workspace") == {"name": "Acme 2"}
    first["manifest.json"].pop("workspace")
    assert first == second
    assert b'"role":"owner"' in first["members.jsonl"]


def test_import_workspace_refuses_a_bad_file(tmp_path, pm):
    path = tmp_path / "bad.zip"
    path.write_bytes(b"nope")
    with pytest.raises(CommandError, match="not a zip file"):
        call_command("import_workspace", str(path), "--owner", "pm")
