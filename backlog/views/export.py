"""Export of the backlog as CSV or JSON: the items the page's filters show,
in its sort, streamed."""

from django.http import StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from pmhub.accounts.decorators import workspace_view
from pmhub.web import get_in_workspace
from products.models import Product

from .. import importing
from ..filters import BacklogQuery
from ..models import CustomField, Item

# Bigger CSV exports are written by a background job (archive/), not streamed.
STREAM_MAX_ITEMS = 20_000


@workspace_view()
def export_items(request, key):
    """CSV or JSON of the items the current filters show."""
    product = get_in_workspace(request, Product, key=key)
    custom_fields = list(CustomField.objects.filter(product=product))
    query = BacklogQuery.from_params(request.GET, custom_fields)
    qs = query.order(query.apply(Item.objects.filter(product=product)))
    fmt = request.GET.get("format", "csv")
    if fmt != "json" and qs.count() > STREAM_MAX_ITEMS:
        # Too long for one request: the archive app's page starts a background export.
        url = reverse("archive:items-csv", args=[request.workspace.slug, product.key])
        return redirect(f"{url}?{request.GET.urlencode()}")
    stamp = f"{product.key}-backlog"
    if fmt == "json":
        response = StreamingHttpResponse(
            importing.export_json(qs, custom_fields), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="{stamp}.json"'
    else:
        response = StreamingHttpResponse(
            importing.export_csv(qs, custom_fields), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{stamp}.csv"'
    return response
