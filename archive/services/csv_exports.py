"""Big CSV exports of a backlog: a worker writes the file to the storage
while the page shows progress; the download link is for the member who
started it and expires (``EXPORT_FILES_TTL_HOURS``)."""

import codecs
import logging

from django.db import transaction
from django.http import QueryDict

from backlog import importing
from backlog.filters import BacklogQuery
from backlog.models import CustomField, Item
from pmhub.accounts.services import require_member

from ..models import ArchiveJob
from . import jobs

log = logging.getLogger(__name__)


def items_query(product, params: QueryDict):
    """The items of a backlog export: the page's filters, in its sort."""
    custom_fields = list(CustomField.objects.filter(product=product))
    query = BacklogQuery.from_params(params, custom_fields)
    return query.order(query.apply(Item.objects.filter(product=product))), custom_fields


@transaction.atomic
def start_items_csv(actor, *, product, params: QueryDict) -> ArchiveJob:
    """Queue a CSV export of the items ``params`` (the backlog's filters) select."""
    require_member(actor, product.workspace)
    qs, _fields = items_query(product, params)  # bad filters are refused here, not in the worker
    job = ArchiveJob.objects.create(
        kind=ArchiveJob.Kind.ITEMS_CSV,
        workspace=product.workspace,
        created_by=actor,
        params={"product": product.pk, "product_key": product.key, "query": params.urlencode()},
        total=qs.count(),
    )
    jobs.enqueue(job)
    return job


def run_items_csv(job: ArchiveJob) -> ArchiveJob:
    """Write the CSV a chunk of rows at a time (a server-side cursor), so a
    worker's memory stays flat whatever the number of items."""
    from products.models import Product

    product = Product.objects.get(pk=job.params["product"])
    qs, custom_fields = items_query(product, QueryDict(job.params.get("query", "")))

    def write(f):
        out = codecs.getwriter("utf-8")(f)
        lines = importing.export_csv(qs, custom_fields)
        out.write(next(lines))  # the header
        for n, line in enumerate(lines, start=1):
            out.write(line)
            if n % 5000 == 0:
                jobs.set_progress(job, n)

    try:
        name, size = jobs.store(job, f"{product.key}-backlog", ".csv", write)
    except Exception as e:
        log.exception("CSV export %s failed", job.pk)
        jobs.fail(job, f"The export failed: {e}")
        return job
    jobs.finish(job, file_name=name, size=size, done=job.total, expires_at=jobs.expiry())
    return job
