"""The metric families of ``/metrics``, read at scrape time: request latency
and task outcomes from the shared counters (``pmhub.observability``), queue
lengths from the broker, pending work from the database."""

from django.conf import settings
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from pmhub.observability import BUCKETS, REQUESTS_KEY, TASKS_KEY, counters

from . import broker
from .pending import all_pending


def request_histogram(fields: dict[str, float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(
        "pmhub_http_request_duration_seconds",
        "Time to answer a request, by view (URL pattern name), method and status class",
        labels=["view", "method", "status"],
    )
    series: dict[tuple, dict[str, float]] = {}
    for field, value in fields.items():
        *labels, part = field.rsplit("|", 3)
        series.setdefault(tuple(labels), {})[part] = value
    for labels, parts in sorted(series.items()):
        cumulative, buckets = 0.0, []
        for i, bound in enumerate(BUCKETS):
            cumulative += parts.get(f"b{i}", 0)
            buckets.append((repr(bound), cumulative))
        buckets.append(("+Inf", parts.get("count", 0)))
        family.add_metric(list(labels), buckets, parts.get("sum", 0.0))
    return family


def task_counter(fields: dict[str, float]) -> CounterMetricFamily:
    family = CounterMetricFamily(
        "pmhub_celery_tasks", "Celery tasks by name and outcome", labels=["task", "outcome"]
    )
    for field, value in sorted(fields.items()):
        name, outcome = field.rsplit("|", 1)
        family.add_metric([name, outcome], value)
    return family


class PMHubCollector:
    def collect(self):
        shared = counters()
        yield request_histogram(shared.read(REQUESTS_KEY))
        yield task_counter(shared.read(TASKS_KEY))
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            queue = GaugeMetricFamily(
                "pmhub_celery_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
            )
            for name, length in broker.queue_lengths().items():
                if length is not None:
                    queue.add_metric([name], length)
            yield queue
        now = timezone.now()
        count = GaugeMetricFamily(
            "pmhub_pending_work", "Background work waiting for a worker or a sweep", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "pmhub_pending_work_oldest_seconds",
            "Age of the oldest waiting piece of background work (0 when none)",
            labels=["kind"],
        )
        for pending in all_pending(now):
            count.add_metric([pending.kind], pending.count)
            age.add_metric([pending.kind], pending.age_seconds(now))
        yield count
        yield age
