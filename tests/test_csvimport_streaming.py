"""CSV imports read the stored file a line at a time and write in batches:
big files cost time, not memory, and stay all-or-nothing."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage

from backlog.models import ImportJob
from pmhub import csvimport

from .test_csvimport import WordImporter, upload


@pytest.fixture
def importer():
    return WordImporter()


def test_the_upload_is_stored_not_kept_in_the_row(importer, pm, product):
    job = upload(importer, pm, product, "Word,Note\napple,red\n")
    assert job.text == "" and job.file_name.startswith("csvimports/")
    assert default_storage.exists(job.file_name)
    assert list(csvimport.rows_of(job)) == [{"Word": "apple", "Note": "red"}]


def test_windows_1252_is_detected_even_late_in_the_file(importer, pm, product):
    raw = ("Word\n" + "plain\n" * 500_000 + "Café\n").encode("cp1252")
    job = importer.start(pm, product=product, filename="w.csv", raw=raw)
    assert job.encoding == "cp1252"
    *_, last = csvimport.rows_of(job)
    assert last == {"Word": "Café"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Word\napple\x00\n", "binary data"),
        (b"", "no header row"),
        (b"a,a\n1,2\n", "distinct, non-empty"),
        (b"Word\n" + b"x" * 2048, "larger than"),
    ],
)
def test_what_is_not_a_csv_is_refused(importer, pm, product, monkeypatch, raw, message):
    monkeypatch.setattr(csvimport, "IMPORT_MAX_BYTES", 1024)
    with pytest.raises(ValidationError, match=message):
        importer.start(pm, product=product, filename="x.csv", raw=raw)
    assert not ImportJob.objects.exists()


def test_rows_are_created_in_batches_in_one_transaction(importer, pm, product, monkeypatch):
    monkeypatch.setattr(csvimport, "BATCH_ROWS", 3)
    sizes = []
    original = importer.create
    importer.create = lambda job, rows: sizes.append(len(rows)) or original(job, rows)
    job = upload(importer, pm, product, "Word\n" + "".join(f"w{n}\n" for n in range(8)))
    importer.set_mapping(pm, job=job, mapping=job.mapping)  # 8 rows: the "task" runs below
    importer.run_step(job.pk, "validate")
    importer.confirm(pm, job=job)
    job = importer.run_step(job.pk, "import")
    assert sizes == [3, 3, 2]
    assert (job.state, job.created_count, job.processed_rows) == ("done", 8, 8)
    assert not default_storage.exists(job.file_name)  # imported: the file is deleted


def test_a_bad_row_in_a_late_batch_imports_nothing(pm, teammate, product, monkeypatch):
    """The backlog's own import in batches of 2: the 5th row's owner leaves the
    workspace between the check and the import; nothing of the batches before stays."""
    from backlog import importing
    from backlog.models import Item
    from pmhub.accounts.models import Membership

    monkeypatch.setattr(csvimport, "BATCH_ROWS", 2)
    raw = b"Title,Owner\na,\nb,\nc,\nd,\ne,teammate\n"
    job = importing.start_import(pm, product=product, filename="x.csv", raw=raw)
    importing.set_mapping(pm, job=job, mapping=job.mapping)
    job.refresh_from_db()
    assert job.state == "ready", job.errors
    Membership.objects.filter(user=teammate).delete()
    importing.confirm_import(pm, job=job)
    job.refresh_from_db()
    assert job.state == "invalid" and "Nothing was imported" in job.errors[0]["message"]
    assert "row 6" in job.errors[0]["message"]
    assert not Item.objects.filter(product=product).exists()
