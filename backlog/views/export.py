"""Export of the backlog as CSV or JSON: the items the page's filters show,
in its sort, streamed."""

from django.http import StreamingHttpResponse

from pmhub.accounts.decorators import workspace_view
from pmhub.web import get_in_workspace
from products.models import Product

from .. import importing
from ..filters import BacklogQuery
from ..models import CustomField, Item


@workspace_view()
def export_items(request, key):
    """CSV or JSON of the items the current filters show."""
    product = get_in_workspace(request, Product, key=key)
    custom_fields = list(CustomField.objects.filter(product=product))
    query = BacklogQuery.from_params(request.GET, custom_fields)
    qs = query.order(query.apply(Item.objects.filter(product=product)))
    fmt = request.GET.get("format", "csv")
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
