"""`make bench` (``python -m bench.run``): seed a product with 100 000 backlog
items in PostgreSQL and measure, in one run, the application against
raw-SQL baselines; print a table of ratios, write bench/results.json and
exit non-zero when a target is missed. bench/README.md explains each metric.

The benchmark owns its database (``pmhub_bench``, created if missing): it
truncates and re-seeds it when the item count differs from ``--items``.
``BENCH_DATABASE_URL`` names another database for it; otherwise the server
and credentials of ``DATABASE_URL`` (if it is PostgreSQL) are used, with the
database name ``pmhub_bench``, so your own data is never touched."""

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

from bench.activity import measure as measure_activity
from bench.backlog import measure as measure_backlog
from bench.bigio import measure as measure_bigio
from bench.core import RESULTS, ROOT, Report, configure_environment, database_url, ensure_database
from bench.discussions import measure as measure_discussions
from bench.feedback import measure as measure_feedback
from bench.live import measure as measure_live
from bench.metrics import measure as measure_metrics
from bench.palette import measure as measure_palette
from bench.roadmaps import measure as measure_roadmaps
from bench.seed import ScoreState, seed
from bench.webhooks import measure as measure_webhooks
from bench.writes import measure as measure_writes

# Each suite: (name, measure(report, data, args)), one module each; they share
# bench/core.py (timing, report, query log) and the data of bench/seed.py.
SUITES = [
    ("backlog", measure_backlog),
    ("roadmaps", measure_roadmaps),
    ("feedback", measure_feedback),
    ("metrics", measure_metrics),
    ("palette", measure_palette),
    ("activity", measure_activity),
    ("webhooks", measure_webhooks),
    ("writes", measure_writes),
    ("live", measure_live),
    ("discussions", measure_discussions),
    ("bigio", measure_bigio),
]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000, help="backlog size (100 000)")
    parser.add_argument("--reps", type=int, default=40, help="repetitions of each request")
    parser.add_argument(
        "--recompute-reps", type=int, default=4, help="repetitions of each recompute"
    )
    parser.add_argument(
        "--events", type=int, default=10_000_000, help="events in the activity suite's log"
    )
    parser.add_argument("--reseed", action="store_true", help="seed again even if seeded")
    parser.add_argument(
        "--webhook-events", type=int, default=10_000, help="events of the webhooks suite (10 000)"
    )
    parser.add_argument(
        "--bigio-items",
        type=int,
        default=1_000_000,
        help="items of the big exports suite's backlog (1 000 000)",
    )
    parser.add_argument(
        "--bigio-rows",
        type=int,
        default=1_000_000,
        help="rows of the big exports suite's CSV import (1 000 000)",
    )
    parser.add_argument(
        "--suite",
        action="append",
        choices=[name for name, _ in SUITES],
        help="run only this suite (repeatable; default: all)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic
    url, source = database_url()
    configure_environment(url)
    ensure_database(url)
    started = time.perf_counter()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        raise SystemExit("bench: needs PostgreSQL")
    # The baseline views live beside the application's URLs; whitenoise
    # checks the disk per request only in development, so not here either.
    settings.ROOT_URLCONF = "bench.urls"
    settings.WHITENOISE_AUTOREFRESH = False
    print(f"==> database {connection.settings_dict['NAME']} ({source}); migrating")
    call_command("migrate", verbosity=0, interactive=False)

    data = seed(args.items, args.reseed)
    data["n"] = args.items
    data["state"] = state = ScoreState(data)
    state.settle(state.a)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]

    load_before = os.getloadavg()
    report = Report()
    for name, measure in SUITES:
        if args.suite and name not in args.suite:
            continue
        measure(report, data, args)

    report.print()
    load_after = os.getloadavg()
    busy = max(load_before[0], load_after[0]) > (os.cpu_count() or 1)
    if busy:
        print(
            f"  note: the machine was busy (load average {load_before[0]:.1f} → "
            f"{load_after[0]:.1f} on {os.cpu_count()} CPUs); each side of a ratio is measured "
            "in turns, but absolute times are inflated and ratios noisier"
        )
    counts = report.facts.get("queries_per_request")
    if counts:
        print(
            "  queries per list request: "
            + ", ".join(f"page_size {k}: {v}" for k, v in counts.items())
        )
    elapsed = time.perf_counter() - started
    import django as dj

    results = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "passed": report.passed,
        "items": args.items,
        "repetitions": {"requests": args.reps, "recompute": args.recompute_reps},
        "statistic": "p50 (median) after warm-up",
        "environment": {
            "python": platform.python_version(),
            "django": dj.get_version(),
            "postgresql": pg_version,
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        },
        "metrics": report.rows,
        "facts": report.facts,
        "seconds": round(elapsed, 1),
    }
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    shown = args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output
    print(f"  wrote {shown} in {elapsed:.0f} s")
    if not report.passed:
        failed = [r["metric"] for r in report.rows if not r["passed"]]
        print(f"\nbench: {len(failed)} target(s) missed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    print("\nbench: every target met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
