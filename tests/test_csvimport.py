"""The shared CSV import machinery (pmhub/csvimport.py), with a small importer
of its own: the apps' imports are tested in tests/backlog and tests/feedback."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from backlog.models import ImportJob
from pmhub import csvimport

BACKGROUND_ROWS = 3  # read by the importer below: its module's limits
PROGRESS_EVERY = 2

sent: list[tuple[int, str]] = []  # what FakeTask was sent


class FakeTask:
    @staticmethod
    def delay(job_id, step):
        sent.append((job_id, step))


class WordImporter(csvimport.Importer):
    """Rows of words; a word is refused when it is in ``refused``."""

    job_model = ImportJob
    required_target = "word"
    required_message = "Map one column to Word."
    rows_noun = "words"
    task = "tests.test_csvimport.FakeTask"

    def __init__(self):
        self.refused = set()
        self.created = []

    def targets(self, product):
        return {"word": "Word", "note": "Note"}

    def guess(self, headers, product):
        return csvimport.guess_mapping(headers, {"word": "word", "term": "word", "note": "note"})

    def checker(self, job):
        columns = dict(csvimport.mapped_columns(job))

        def check(number, row):
            values = {target: row[column] for column, target in columns.items()}
            if values["word"] in self.refused:
                return None, [{"row": number, "column": "Word", "message": "Refused."}]
            return values, []

        return check

    def create(self, job, rows):
        self.created.extend(rows)
        return {"created_count": len(rows)}


@pytest.fixture
def importer():
    sent.clear()
    return WordImporter()


def upload(importer, pm, product, text):
    return importer.start(pm, product=product, filename="words.csv", raw=text.encode())


def test_read_csv_decodes_utf8_with_bom_and_windows_1252():
    assert csvimport.read_csv("\ufeffWord, Note \nä,1\n".encode()) == (
        ["Word", "Note"],
        "Word, Note \nä,1\n",
    )
    assert csvimport.read_csv("Word\nCafé\n".encode("cp1252"))[1] == "Word\nCafé\n"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "no header row"),
        (b"a,a\n1,2\n", "distinct, non-empty"),
        (b",\n1,2\n", "distinct, non-empty"),
        (b"a\x00b\n", "binary data"),
        (b"\x81\x8d\x8f\x90\x9d", "not text"),
        (b"a\n" + b"x" * csvimport.MAX_BYTES, "larger than 10 MB"),
    ],
)
def test_read_csv_refuses_what_is_not_a_csv(raw, message):
    with pytest.raises(ValidationError, match=message):
        csvimport.read_csv(raw)


def test_neutralize_quotes_formulas_only():
    assert [csvimport.neutralize(v) for v in ("=1+1", "+4", "-x", "@a", "\tt", "ok", 3, None)] == [
        "'=1+1",
        "'+4",
        "'-x",
        "'@a",
        "'\tt",
        "ok",
        3,
        None,
    ]


@pytest.mark.parametrize(
    "text",
    [
        '\uff1dHYPERLINK("http://evil")',  # full-width ＝
        "\uff0b1+1",  # ＋
        "\uff0dcmd",  # －
        "\uff20SUM(A1)",  # ＠
        "\ufe66 1",  # small ﹦
        "\ufe62 1",  # small ﹢
        "\ufe63 1",  # small ﹣
        "\ufe6b x",  # small ﹫
        "\u2212 1",  # minus sign
        "  =1+1",  # after spaces
        "\u00a0=1+1",  # after a no-break space
        "\r=1+1",
        "\n=1+1",
        "\t1",
    ],
)
def test_neutralize_quotes_look_alike_formula_starters(text):
    assert csvimport.neutralize(text) == "'" + text


@pytest.mark.parametrize("text", ["Ｐlain", "a=b", "x+1", "", "  ", "１２", "€5", "#tag"])
def test_neutralize_leaves_text_that_is_no_formula(text):
    assert csvimport.neutralize(text) == text


def test_guess_mapping_matches_loosely_and_uses_each_target_once():
    assert csvimport.guess_mapping(
        ["TERM", "Word", "n-o-t-e", "other"],
        {
            "word": "word",
            "term": "word",
            "note": "note",
        },
    ) == {"TERM": "word", "n-o-t-e": "note"}


def test_the_flow_validates_then_imports_everything_at_once(importer, pm, product):
    job = upload(importer, pm, product, "Term,Note,Extra\napple,red,x\n\n,,\npear,,y\n")
    assert job.mapping == {"Term": "word", "Note": "note"}
    importer.set_mapping(pm, job=job, mapping={"Note": "note", "Term": "word"})
    job.refresh_from_db()
    assert (job.state, job.total_rows, job.processed_rows, job.percent) == ("ready", 2, 2, 100)
    assert csvimport.mapped_columns(job) == [("Term", "word"), ("Note", "note")]  # file order
    job = importer.confirm(pm, job=job)
    job.refresh_from_db()
    assert (job.state, job.created_count, job.finished_at is not None) == ("done", 2, True)
    assert importer.created == [{"word": "apple", "note": "red"}, {"word": "pear", "note": ""}]
    with pytest.raises(ValidationError, match="not ready"):
        importer.confirm(pm, job=job)
    assert importer.import_rows(job.pk).state == "done" and len(importer.created) == 2
    assert sent == []  # small files run in the request


def test_unusable_mappings_are_refused(importer, pm, product):
    job = upload(importer, pm, product, "Term,Note\napple,red\n")
    for mapping, message in [
        ({"Note": "note"}, "Map one column to Word."),
        ({"Term": "word", "Note": "colour"}, "Unknown fields: colour."),
        ({"Term": "word", "Note": "word"}, "same field"),
    ]:
        with pytest.raises(ValidationError, match=message):
            importer.set_mapping(pm, job=job, mapping=mapping)
    empty = upload(importer, pm, product, "Term\n\n")
    with pytest.raises(ValidationError, match="header row but no words"):
        importer.set_mapping(pm, job=empty, mapping={"Term": "word"})
    job.refresh_from_db()
    assert job.state == "mapping"


def test_rows_that_go_bad_before_the_import_import_nothing(importer, pm, product):
    job = upload(importer, pm, product, "Word\napple\npear\n")
    importer.set_mapping(pm, job=job, mapping=job.mapping)
    job.refresh_from_db()
    assert job.state == "ready"
    importer.refused = {"pear"}
    job = importer.confirm(pm, job=job)
    job.refresh_from_db()
    assert job.state == "invalid" and importer.created == []
    assert job.errors == [
        {"row": 0, "column": "", "message": "Nothing was imported: row 3: Refused."}
    ]


def test_invalid_rows_are_all_reported(importer, pm, product):
    job = upload(importer, pm, product, "Word\na\nb\nc\n")
    importer.refused = {"a", "c"}
    importer.set_mapping(pm, job=job, mapping=job.mapping)
    job.refresh_from_db()
    assert job.state == "invalid"
    assert [(e["row"], e["message"]) for e in job.errors] == [(2, "Refused."), (4, "Refused.")]


def test_big_files_go_to_the_task_after_commit(
    importer, pm, product, django_capture_on_commit_callbacks
):
    job = upload(importer, pm, product, "Word\n" + "".join(f"w{n}\n" for n in range(4)))
    with django_capture_on_commit_callbacks(execute=True):
        job = importer.set_mapping(pm, job=job, mapping=job.mapping)
    assert job.state == "validating" and sent == [(job.pk, "validate")]
    job = importer.run_step(job.pk, "validate")
    assert (job.state, job.processed_rows) == ("ready", 4)
    with django_capture_on_commit_callbacks(execute=True):
        importer.confirm(pm, job=job)
    assert sent[-1] == (job.pk, "import")
    assert importer.run_step(job.pk, "import").created_count == 4


def test_only_editors_start_and_confirm(importer, pm, viewer, product):
    with pytest.raises(PermissionDenied):
        upload(importer, viewer, product, "Word\na\n")
    job = importer.set_mapping(
        pm, job=upload(importer, pm, product, "Word\na\n"), mapping={"Word": "word"}
    )
    with pytest.raises(PermissionDenied):
        importer.confirm(viewer, job=job)


def test_the_progress_banner_polls_its_own_apps_job_page(as_user, pm, product):
    from backlog import importing

    job = importing.start_import(pm, product=product, filename="x.csv", raw=b"Title\nA\n")
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.VALIDATING, total_rows=4, processed_rows=1
    )
    client = as_user(pm)
    url = f"/w/acme/p/PAY/backlog/import/{job.pk}/"
    running = client.get(f"{url}?progress=1", HTTP_HX_REQUEST="true")
    html = running.content.decode()
    assert f'hx-get="{url}?progress=1"' in html and "1 / 4 rows" in html
    assert 'value="25"' in html and "HX-Refresh" not in running
    ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.READY)
    done = client.get(f"{url}?progress=1", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_import_progress_is_published_outside_the_transaction(importer, pm, product):
    """The import re-checks rows inside its one transaction; the count goes to
    the cache every PROGRESS_EVERY rows, where other processes can read it."""
    from django.core.cache import cache

    words = "\n".join(f"w{n}" for n in range(5))
    job = upload(importer, pm, product, f"Word\n{words}\n")
    importer.set_mapping(pm, job=job, mapping={"Word": "word"})
    importer.validate(job.pk)  # 5 rows > BACKGROUND_ROWS: the (fake) task's steps, run here
    job.refresh_from_db()
    seen = []

    def create(job, rows):
        seen.append(cache.get(job.progress_key))
        return {"created_count": len(rows)}

    importer.create = create
    importer.confirm(pm, job=job)
    assert importer.import_rows(job.pk).state == "done"
    assert seen == [4]  # rows 1…5, published at 2 and 4
    assert cache.get(job.progress_key) is None  # cleared when done


def test_the_job_page_shows_the_published_import_progress(as_user, pm, product):
    from django.core.cache import cache

    from backlog import importing

    job = importing.start_import(pm, product=product, filename="x.csv", raw=b"Title\nA\n")
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.IMPORTING, total_rows=10, processed_rows=0
    )
    cache.set(job.progress_key, 6, 60)
    try:
        response = as_user(pm).get(
            f"/w/acme/p/PAY/backlog/import/{job.pk}/?progress=1", HTTP_HX_REQUEST="true"
        )
    finally:
        cache.delete(job.progress_key)
    html = response.content.decode()
    assert "6 / 10 rows" in html and 'value="60"' in html
