"""The operator's view: ``/healthz`` and the Prometheus endpoint ``/metrics``.

A package above every app (tests/test_import_graph.py): it reads the pending
work of each (score recomputes, metric rollups, demand, webhook deliveries,
notification and answer emails, archive jobs, event consumers) and writes
nothing."""
