"""Feedback in and out as CSV: the import runs the shared flow of
``pmhub.csvimport`` with ``feedback.importing.IMPORTER`` (upload, map
columns, every row checked, then imported in one transaction); the export
streams the inbox's current filter."""

from django.http import StreamingHttpResponse

from pmhub import csvimport
from pmhub.accounts.decorators import workspace_view
from pmhub.web import get_in_workspace
from products.models import Product

from .. import importing
from ..models import Feedback
from .base import page_context
from .inbox import inbox_filters

import_start, import_job = csvimport.import_views(
    "feedback.importing.IMPORTER",
    app="feedback",
    urls={"start": "feedback:feedback-import", "job": "feedback:feedback-import-job"},
    product_model=Product,
    context=page_context,
)


@workspace_view()
def export(request, key):
    product = get_in_workspace(request, Product, key=key)
    rows = Feedback.objects.filter(product=product).matching(**inbox_filters(request.GET))
    response = StreamingHttpResponse(
        importing.export_csv(rows.order_by("-received_at", "-id")),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{product.key}-feedback.csv"'
    return response
