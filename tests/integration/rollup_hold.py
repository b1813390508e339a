"""PMHub's Celery app with a pause inside the rollup transaction, for the
killed-worker test (test_metrics_worker.py), which starts a worker with
``-A tests.integration.rollup_hold``.

Before the worker's first task, the step that recomputes a metric's rows
(``metrics.services.rollups._recompute``) is wrapped: after it, still inside
``process_dirty``'s transaction, the worker announces that it got there by
writing the file named by ``ROLLUP_HOLD_FILE`` and then waits, so the test
can kill it at that point. The hook lives here, in the test suite: nothing in
the application knows about it.
"""

import os
import time
from pathlib import Path

from celery.signals import task_prerun

from pmhub.celery import app

__all__ = ["app"]

HOLD_SECONDS = 120


def _install_hold(**_kwargs):
    from metrics.services import rollups

    if getattr(rollups._recompute, "holds", False):
        return
    recompute = rollups._recompute

    def recompute_then_hold(metric_id, days):
        recompute(metric_id, days)
        Path(os.environ["ROLLUP_HOLD_FILE"]).write_text(str(os.getpid()))
        time.sleep(HOLD_SECONDS)

    recompute_then_hold.holds = True
    rollups._recompute = recompute_then_hold


task_prerun.connect(_install_hold, weak=False)
