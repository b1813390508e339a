"""What the backlog's pages share: the context every page starts from, and
an item looked up within the request's workspace."""

from django.urls import reverse

from pmhub import csvimport
from pmhub.web import get_in_workspace

from ..models import Item

LIST = "backlog/list.html"
errors_text = csvimport.errors_text  # a ValidationError as one line for messages


def page_context(request, product, section="backlog") -> dict:
    return {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": section,
    }


def backlog_url(request, product) -> str:
    return reverse("backlog:backlog", args=[request.workspace.slug, product.key])


def get_item(request, product, number) -> Item:
    """The product's item ``number`` (with product, owner and parent), else 404."""
    items = Item.objects.select_related("product", "owner", "parent")
    return get_in_workspace(request, items, product=product, number=number)
