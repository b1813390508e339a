"""Metric services: CRUD rules, ingestion idempotency, per-row errors,
all-or-nothing, CSV upload, permissions."""

import io
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from metrics import services as metrics
from metrics.models import Datapoint, DirtyDay, KeyResultLink
from pmhub.errors import VersionConflict


@pytest.fixture
def metric(product, pm):
    return metrics.create_metric(pm, product=product, name="Signups", unit="users")


def test_resending_a_batch_changes_nothing(metric, pm):
    rows = [
        {"timestamp": "2026-01-01T10:00:00Z", "value": 1},
        {"timestamp": "2026-01-01T10:00:00Z", "value": 1, "dedupe_key": "a"},
        {"timestamp": "2026-01-01T10:00:00Z", "value": 1, "dedupe_key": "b"},
        {"timestamp": "2026-01-02T10:00:00+02:00", "value": 2.5},
    ]
    first = metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    assert (first.created, first.duplicates, first.rejected) == (4, 0, 0)
    metrics.process_dirty()
    again = metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    assert (again.created, again.duplicates) == (0, 4)
    assert Datapoint.objects.filter(metric=metric).count() == 4
    assert not DirtyDay.objects.exists()  # nothing new: no rollup needed


def test_a_dedupe_key_identifies_the_row_whatever_its_value(metric, pm):
    metrics.ingest_datapoints(
        pm, metric=metric, rows=[{"timestamp": "2026-01-01", "value": 1, "dedupe_key": "evt-1"}]
    )
    result = metrics.ingest_datapoints(
        pm, metric=metric, rows=[{"timestamp": "2026-01-05", "value": 9, "dedupe_key": "evt-1"}]
    )
    assert result.duplicates == 1
    assert list(Datapoint.objects.values_list("value", flat=True)) == [1.0]


def test_without_a_key_the_same_instant_and_value_is_one_row(metric, pm):
    rows = [
        {"timestamp": "2026-01-01T12:00:00Z", "value": 3},
        {"timestamp": "2026-01-01T13:00:00+01:00", "value": 3},  # same instant
        {"timestamp": "2026-01-01T12:00:00Z", "value": 4},  # another value: kept
    ]
    result = metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    assert (result.created, result.duplicates) == (2, 1)


def test_bad_rows_are_reported_and_the_rest_stored(metric, pm):
    rows = [
        {"timestamp": "2026-01-01T00:00:00Z", "value": 1},
        {"timestamp": "yesterday", "value": 2},
        {"timestamp": "2026-01-02", "value": "lots"},
        "not an object",
        {"value": True},
        {"timestamp": "2026-01-03", "value": float("inf")},
        {"timestamp": "1900-01-01", "value": 1},
        {"timestamp": "2026-01-04", "value": 1, "dedupe_key": "x" * 101},
        {"timestamp": "2026-01-05", "value": "7.5"},
    ]
    result = metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    assert result.created == 2
    by_index = {e["index"]: e["errors"] for e in result.errors}
    assert set(by_index) == {1, 2, 3, 4, 5, 6, 7}
    assert "timestamp" in by_index[1] and "value" not in by_index[1]
    assert by_index[2] == {"value": ["Enter a number."]}
    assert "non_field_errors" in by_index[3]
    assert set(by_index[4]) == {"timestamp", "value"}
    assert "dedupe_key" in by_index[7]


def test_all_or_nothing_stores_nothing_when_a_row_is_bad(metric, pm):
    rows = [{"timestamp": "2026-01-01", "value": 1}, {"timestamp": "2026-01-02", "value": None}]
    result = metrics.ingest_datapoints(pm, metric=metric, rows=rows, all_or_nothing=True)
    assert not result.applied
    assert result.created == 0
    assert not Datapoint.objects.exists()
    assert not DirtyDay.objects.exists()
    ok = metrics.ingest_datapoints(pm, metric=metric, rows=rows[:1], all_or_nothing=True)
    assert ok.applied and ok.created == 1


def test_more_than_ten_thousand_rows_is_refused(metric, pm):
    rows = [{"timestamp": "2026-01-01", "value": 1}] * 10_001
    with pytest.raises(ValidationError) as exc:
        metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    assert "datapoints" in exc.value.message_dict


def test_ten_thousand_rows_are_one_batch(metric, pm, django_assert_max_num_queries):
    rows = [
        {"timestamp": datetime.fromtimestamp(1_767_225_600 + 37 * n, UTC).isoformat(), "value": n}
        for n in range(10_000)
    ]
    with django_assert_max_num_queries(12):
        result = metrics.ingest_datapoints(pm, metric=metric, rows=rows)
    assert result.created == 10_000


def test_offsets_and_naive_timestamps_are_stored_in_utc(metric, pm):
    metrics.ingest_datapoints(
        pm,
        metric=metric,
        rows=[
            {"timestamp": "2026-03-01T01:30:00+05:30", "value": 1},
            {"timestamp": "2026-03-01T01:30:00", "value": 2},
        ],
    )
    stamps = dict(Datapoint.objects.values_list("value", "timestamp"))
    assert stamps[1.0] == datetime(2026, 2, 28, 20, 0, tzinfo=UTC)
    assert stamps[2.0] == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert set(DirtyDay.objects.values_list("day", flat=True)) == {
        date(2026, 2, 28),
        date(2026, 3, 1),
    }


def test_viewers_cannot_ingest_or_edit(metric, viewer):
    with pytest.raises(PermissionDenied):
        metrics.ingest_datapoints(viewer, metric=metric, rows=[])
    with pytest.raises(PermissionDenied):
        metrics.update_metric(viewer, metric=metric, expected_version=1, fields={"unit": "x"})


def test_strangers_cannot_ingest(metric, stranger):
    with pytest.raises(PermissionDenied):
        metrics.ingest_datapoints(stranger, metric=metric, rows=[])


def test_metric_names_are_unique_per_product(metric, pm, product):
    with pytest.raises(ValidationError) as exc:
        metrics.create_metric(pm, product=product, name="signups")
    assert "name" in exc.value.message_dict


def test_stale_metric_edit_is_a_conflict(metric, pm, teammate):
    metrics.update_metric(teammate, metric=metric, expected_version=1, fields={"unit": "people"})
    with pytest.raises(VersionConflict):
        metrics.update_metric(pm, metric=metric, expected_version=1, fields={"unit": "users"})
    metric.refresh_from_db()
    assert metric.unit == "people"


def test_deleting_a_metric_removes_its_data_and_unlinks_key_results(metric, pm, key_result):
    KeyResultLink.objects.create(key_result=key_result, metric=metric)
    metrics.ingest_datapoints(pm, metric=metric, rows=[{"timestamp": "2026-01-01", "value": 1}])
    metrics.process_dirty()
    metrics.delete_metric(pm, metric=metric, expected_version=metric.version)
    assert not Datapoint.objects.exists()
    key_result.refresh_from_db()
    assert KeyResultLink.objects.get(key_result=key_result).metric_id is None
    assert key_result.current_value == 1


def test_csv_upload_reports_errors_by_line(metric, pm):
    text = (
        "Timestamp,Value,dedupe_key\n"
        "2026-01-01T00:00:00Z,5,\n"
        "\n"
        "2026-01-02T00:00:00Z,oops,\n"
        "not-a-date,3,k1\n"
        '2026-01-03,"1,250",k2\n'
    )
    result = metrics.ingest_csv(pm, metric=metric, file=io.BytesIO(text.encode()))
    assert result.created == 2
    assert [(e["line"], sorted(e["errors"])) for e in result.errors] == [
        (4, ["value"]),
        (5, ["timestamp"]),
    ]
    assert Datapoint.objects.get(dedupe_key="k2").value == 1250


def test_csv_without_the_needed_header_is_refused(metric, pm):
    with pytest.raises(ValidationError) as exc:
        metrics.ingest_csv(pm, metric=metric, file=io.BytesIO(b"when,amount\n2026-01-01,1\n"))
    assert "timestamp" in exc.value.message_dict["file"][0]


def test_csv_larger_than_the_upload_limit_is_refused_before_storing(metric, pm):
    from pmhub.csvimport import MAX_BYTES

    text = b"timestamp,value\n2026-01-01T00:00:00Z,1\n" + b"\n" * MAX_BYTES
    with pytest.raises(ValidationError) as exc:
        metrics.ingest_csv(pm, metric=metric, file=io.BytesIO(text))
    assert "larger than" in exc.value.message_dict["file"][0]
    assert not Datapoint.objects.exists()


def test_csv_all_or_nothing(metric, pm):
    text = b"timestamp,value\n2026-01-01,1\n2026-01-02,x\n"
    result = metrics.ingest_csv(pm, metric=metric, file=io.BytesIO(text), all_or_nothing=True)
    assert not result.applied
    assert not Datapoint.objects.exists()


def test_a_rename_that_loses_a_race_for_the_name_is_a_validation_error(
    metric, pm, product, monkeypatch
):
    other = metrics.create_metric(pm, product=product, name="Revenue")
    # The name check passed before the other rename committed: only the
    # database's unique constraint sees the clash.
    monkeypatch.setattr(
        metrics.definitions, "_check_name", lambda product, name, exclude_pk=None: name
    )
    with pytest.raises(ValidationError) as exc:
        metrics.update_metric(
            pm, metric=other, expected_version=other.version, fields={"name": metric.name}
        )
    assert "name" in exc.value.message_dict
