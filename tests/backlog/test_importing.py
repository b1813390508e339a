import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError

from backlog import importing, services
from backlog.models import ImportJob, Item
from pmhub.activity.models import Event
from tests.backlog.factories import make_item

BACKLOG = "/w/acme/p/PAY/backlog/"
GOOD = (
    "Summary,Issue Type,Status,Labels,Estimate,Reach,Impact,Confidence,Owner\n"
    'Apple Pay,Feature,Idea,"wallets, growth",2,1000,2,80,pm\n'
    "Refund API,Improvement,Planned,api,1,100,1,100,\n"
)


def run(pm, product, text, mapping=None):
    job = importing.start_import(pm, product=product, filename="x.csv", raw=text.encode())
    importing.set_mapping(pm, job=job, mapping=mapping or job.mapping)
    job.refresh_from_db()
    return job


def test_columns_are_mapped_by_name(pm, product):
    job = importing.start_import(pm, product=product, filename="x.csv", raw=GOOD.encode())
    assert job.mapping == {
        "Summary": "title",
        "Issue Type": "type",
        "Status": "status",
        "Labels": "tags",
        "Estimate": "effort",
        "Reach": "reach",
        "Impact": "impact",
        "Confidence": "confidence",
        "Owner": "owner",
    }


def test_valid_file_imports_all_rows_scored_and_tagged(pm, product):
    make_item(product, pm, title="Existing")
    job = run(pm, product, GOOD)
    assert job.state == ImportJob.State.READY and job.errors == []
    importing.confirm_import(pm, job=job)
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.created_count == 2
    items = list(Item.objects.filter(product=product).order_by("rank"))
    assert [i.key for i in items] == ["PAY-1", "PAY-2", "PAY-3"]
    apple = items[1]
    assert apple.score == pytest.approx(1000 * 2 * 0.8 / 2)
    assert sorted(apple.tags.values_list("name", flat=True)) == ["growth", "wallets"]
    assert apple.owner == pm
    created = Event.objects.filter(object_type="backlog.item", object_id=apple.pk)
    assert created.filter(verb="item.created").count() == 1
    assert apple.score_changes.get().cause == "created"


def test_errors_are_reported_row_by_row_and_nothing_is_imported(pm, product):
    text = "Title,Status,Effort,Owner\nGood,Idea,2,\n,Idea,1,\nZero,Idea,0,\nX,Flying,1,nobody\n"
    job = run(pm, product, text)
    assert job.state == ImportJob.State.INVALID
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "Title"),
        (4, "Effort"),
        (5, "Status"),
        (5, "Owner"),
    ]
    with pytest.raises(ValidationError):
        importing.confirm_import(pm, job=job)
    assert not Item.objects.exists()


def test_import_is_all_or_nothing_when_the_product_changed_meanwhile(pm, product):
    field = services.create_custom_field(
        pm, product=product, name="Segment", kind="select", options=["SMB"]
    )
    job = run(
        pm,
        product,
        "Title,Segment\nA,SMB\nB,SMB\n",
        {"Title": "title", "Segment": f"cf:{field.pk}"},
    )
    assert job.state == ImportJob.State.READY
    field.options = ["Enterprise"]  # someone edits the field before the import runs
    field.save()
    importing.confirm_import(pm, job=job)
    job.refresh_from_db()
    assert (
        job.state == ImportJob.State.INVALID and "Nothing was imported" in job.errors[0]["message"]
    )
    assert not Item.objects.exists()


def test_big_files_run_in_the_background_with_progress(
    pm, product, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(importing, "BACKGROUND_ROWS", 5)
    monkeypatch.setattr(importing, "PROGRESS_EVERY", 4)
    text = "Title\n" + "".join(f"Item {n}\n" for n in range(30))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = run(pm, product, text)
    assert len(callbacks) == 1  # the validation was handed to a task
    job.refresh_from_db()
    assert job.state == ImportJob.State.READY and job.processed_rows == 30 and job.percent == 100
    with django_capture_on_commit_callbacks(execute=True):
        importing.confirm_import(pm, job=job)
    assert Item.objects.filter(product=product).count() == 30


def test_a_mapping_without_title_is_refused(pm, product):
    job = importing.start_import(pm, product=product, filename="x.csv", raw=GOOD.encode())
    with pytest.raises(ValidationError):
        importing.set_mapping(pm, job=job, mapping={"Estimate": "effort"})


@pytest.mark.parametrize("raw", [b"", b"\xff\xfe\x00garbage\x00", b"a,a\n1,2\n"])
def test_unreadable_files_are_refused(pm, product, raw):
    with pytest.raises(ValidationError):
        importing.start_import(pm, product=product, filename="x.csv", raw=raw)


def test_viewer_cannot_import_but_can_export(as_user, viewer, product, pm):
    make_item(product, pm, title="Visible")
    client = as_user(viewer)
    assert client.get(BACKLOG + "import/").status_code == 403
    response = client.get(BACKLOG + "export/")
    assert response.status_code == 200
    assert "Visible" in b"".join(response.streaming_content).decode()


def test_csv_export_neutralises_formulas(as_user, pm, product):
    make_item(product, pm, title='=HYPERLINK("http://evil")', description="@SUM(A1)", tags=["+x"])
    make_item(product, pm, title="Plain", effort=2)
    body = b"".join(as_user(pm).get(BACKLOG + "export/").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["description"] == "'@SUM(A1)"
    assert rows[0]["tags"] == "'+x"
    assert rows[1]["title"] == "Plain" and rows[1]["effort"] == "2.0"


def test_csv_export_neutralises_look_alike_formula_starters(as_user, pm, product):
    make_item(
        product, pm, title='＝HYPERLINK("http://evil")', description="＠SUM(A1)", tags=["＋x"]
    )
    body = b"".join(as_user(pm).get(BACKLOG + "export/").streaming_content).decode()
    row = next(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    assert row["title"] == '\'＝HYPERLINK("http://evil")'
    assert row["description"] == "'＠SUM(A1)"
    assert row["tags"] == "'＋x"


def test_json_export_follows_the_filters(as_user, pm, product):
    make_item(product, pm, title="Growth thing", tags=["growth"])
    make_item(product, pm, title="Other")
    body = b"".join(as_user(pm).get(BACKLOG + "export/?format=json&tag=growth").streaming_content)
    data = json.loads(body)
    assert [row["title"] for row in data] == ["Growth thing"]


def test_import_pages_end_to_end(as_user, pm, product):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = as_user(pm)
    response = client.post(
        BACKLOG + "import/", {"file": SimpleUploadedFile("a.csv", GOOD.encode())}
    )
    job = ImportJob.objects.get()
    assert response["Location"].endswith(f"import/{job.pk}/")
    form = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    client.post(BACKLOG + f"import/{job.pk}/", form)
    assert "Import 2 items" in client.get(BACKLOG + f"import/{job.pk}/").content.decode()
    client.post(BACKLOG + f"import/{job.pk}/", {"action": "import"})
    assert Item.objects.filter(product=product).count() == 2
