from django.core.files.uploadedfile import SimpleUploadedFile

from feedback import importing
from feedback.models import Feedback, ImportJob

IMPORT = "/w/acme/p/PAY/feedback/import/"

CSV = (
    "Ticket ID,Comment,Email,Company,Channel,Date\n"
    "zd-1,Please add iDEAL,ann@shop.example,Shop,support,2026-03-01\n"
    "zd-2,SEPA direct debit please,bob@shop.example,Shop,email,2026-03-02T10:00:00Z\n"
    'zd-3,=HYPERLINK("x"),carl@other.example,Other,,\n'
)


def _upload(client, text=CSV, name="tickets.csv"):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, text.encode(), "text/csv")})


def test_import_maps_previews_and_imports_every_row(as_user, pm, product):
    client = as_user(pm)
    response = _upload(client)
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.mapping == {
        "Ticket ID": "external_id",
        "Comment": "text",
        "Email": "email",
        "Company": "company_name",
        "Channel": "source",
        "Date": "received_at",
    }
    page = client.get(f"{IMPORT}{job.pk}/").content.decode()
    assert "Comment" in page and "Feedback text" in page

    mapping = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    client.post(f"{IMPORT}{job.pk}/", mapping)
    job.refresh_from_db()
    assert job.state == "ready"
    preview = client.get(f"{IMPORT}{job.pk}/").content.decode()
    assert "Please add iDEAL" in preview

    client.post(f"{IMPORT}{job.pk}/", {"action": "import"})

    job.refresh_from_db()
    assert (job.state, job.created_count) == ("done", 3)
    rows = {f.external_id: f for f in Feedback.objects.select_related("person", "company")}
    assert rows["zd-1"].source == "support" and rows["zd-3"].source == "import"
    assert rows["zd-1"].company_id == rows["zd-2"].company_id
    assert rows["zd-2"].received_at.isoformat().startswith("2026-03-02T10:00")


def test_import_reports_every_bad_row_and_imports_nothing(as_user, pm, product):
    client = as_user(pm)
    bad = "Comment,Email,Channel,Date\n,a@b.example,email,\nok,not-an-email,pigeon,yesterday\n"
    _upload(client, bad)
    job = ImportJob.objects.get()
    mapping = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}

    client.post(f"{IMPORT}{job.pk}/", mapping)

    job.refresh_from_db()
    assert job.state == "invalid"
    problems = [(e["row"], e["column"]) for e in job.errors]
    assert sorted(problems) == [(2, "Comment"), (3, "Channel"), (3, "Date"), (3, "Email")]
    assert not Feedback.objects.exists()


def test_a_row_with_more_values_than_columns_is_refused(as_user, pm, product):
    """An unquoted comma in a text split it across columns: the extra values
    were dropped and the row passed the check."""
    client = as_user(pm)
    text = "Comment,Email\nPlease add iDEAL, and SEPA,ann@shop.example\nFine,bob@shop.example\n"
    _upload(client, text)
    job = ImportJob.objects.get()
    mapping = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    client.post(f"{IMPORT}{job.pk}/", mapping)
    job.refresh_from_db()
    assert job.state == "invalid"
    assert [(e["row"], e["column"]) for e in job.errors] == [(2, "(row)")]
    assert "3 values but the header has 2 columns" in job.errors[0]["message"]
    assert not Feedback.objects.exists()


def test_reimporting_the_same_file_creates_nothing_new(as_user, pm, product):
    client = as_user(pm)
    for _ in range(2):
        _upload(client)
        job = ImportJob.objects.order_by("-pk").first()
        mapping = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
        client.post(f"{IMPORT}{job.pk}/", mapping)
        client.post(f"{IMPORT}{job.pk}/", {"action": "import"})
    job.refresh_from_db()
    assert job.created_count == 0
    assert Feedback.objects.count() == 3


def test_big_files_run_in_the_background_with_progress(as_user, pm, product, committed):
    client = as_user(pm)
    rows = "".join(
        f"Feedback number {n},u{n}@x.example\n" for n in range(importing.BACKGROUND_ROWS + 5)
    )
    _upload(client, "Comment,Email\n" + rows)
    job = ImportJob.objects.get()
    mapping = {f"map_{i}": job.mapping.get(h, "") for i, h in enumerate(job.headers)}
    with committed():
        client.post(f"{IMPORT}{job.pk}/", mapping)
        job.refresh_from_db()
        assert job.state == "validating"  # the task runs after commit
    progress = client.get(f"{IMPORT}{job.pk}/?progress=1", HTTP_HX_REQUEST="true")
    assert "job-progress" in progress.content.decode()
    job.refresh_from_db()
    assert job.state == "ready"
    with committed():
        client.post(f"{IMPORT}{job.pk}/", {"action": "import"})
    job.refresh_from_db()
    assert job.created_count == importing.BACKGROUND_ROWS + 5


def test_viewer_cannot_import(as_user, viewer, product):
    assert _upload(as_user(viewer)).status_code == 403
    assert not ImportJob.objects.exists()
