"""PMHub's Celery app with a pause inside a score recompute, for the
killed-worker test (test_recompute_worker.py), which starts a worker with
``-A tests.integration.recompute_hold``.

Before the worker's first task, the backlog is rescored in batches of
``RECOMPUTE_HOLD_BATCH`` ids, and the batch numbered ``RECOMPUTE_HOLD_AT``
(1-based) pauses after its rows are written, still inside its transaction:
the worker writes the file named by ``RECOMPUTE_HOLD_FILE`` and waits, so the
test can kill it there. Earlier batches are committed. The hook lives here,
in the test suite: nothing in the application knows about it.
"""

import os
import time
from pathlib import Path

from celery.signals import task_prerun

from pmhub.celery import app

__all__ = ["app"]

HOLD_SECONDS = 120


def _install_hold(**_kwargs):
    from backlog.services import recompute

    if getattr(recompute._rescore_range, "holds", False):
        return
    recompute.RECOMPUTE_BATCH = int(os.environ["RECOMPUTE_HOLD_BATCH"])
    hold_at = int(os.environ["RECOMPUTE_HOLD_AT"])
    rescore = recompute._rescore_range
    calls = []

    def rescore_then_hold(*args, **kwargs):
        changed = rescore(*args, **kwargs)
        calls.append(changed)
        if len(calls) == hold_at:
            Path(os.environ["RECOMPUTE_HOLD_FILE"]).write_text(str(sum(calls[:-1])))
            time.sleep(HOLD_SECONDS)
        return changed

    rescore_then_hold.holds = True
    recompute._rescore_range = rescore_then_hold


task_prerun.connect(_install_hold, weak=False)
