"""Every write of post-launch metrics, one module per sub-domain:

- ``definitions``: create, change and delete metrics;
- ``ingest``: datapoints from API batches and CSV files, marking days dirty;
- ``rollups``: incremental day/week/month rollups (``process_dirty``);
- ``follow``: key results that follow a metric;
- ``markers``: chart markers handed over by downstream apps (launches).

Call sites read ``services.ingest_datapoints(...)``; tests that replace a
step patch it where it is looked up (``metrics.services.rollups._recompute``).
"""

from .definitions import METRIC_FIELDS, create_metric, delete_metric, update_metric
from .follow import (
    clean_link,
    follow_metric,
    metric_value_since,
    refresh_key_results,
    save_link,
)
from .ingest import (
    MAX_BATCH,
    MAX_CSV_ROWS,
    IngestResult,
    ingest_csv,
    ingest_datapoints,
    mark_dirty,
    parse_key,
    parse_rows,
    parse_timestamp,
    parse_value,
)
from .markers import NewMarker, replace_markers
from .rollups import process_dirty, request_full_rollup

__all__ = [
    "MAX_BATCH",
    "MAX_CSV_ROWS",
    "METRIC_FIELDS",
    "IngestResult",
    "NewMarker",
    "clean_link",
    "create_metric",
    "delete_metric",
    "follow_metric",
    "ingest_csv",
    "ingest_datapoints",
    "mark_dirty",
    "metric_value_since",
    "parse_key",
    "parse_rows",
    "parse_timestamp",
    "parse_value",
    "process_dirty",
    "refresh_key_results",
    "replace_markers",
    "request_full_rollup",
    "save_link",
    "update_metric",
]
