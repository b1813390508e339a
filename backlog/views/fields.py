"""The custom fields page: add a field (a new backlog column) or delete one."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from pmhub.accounts.decorators import workspace_view
from pmhub.web import apply_errors, get_in_workspace
from products.models import Product

from .. import services
from ..forms import CustomFieldForm
from ..models import CustomField
from .common import errors_text, page_context


@workspace_view()
def fields_page(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = CustomFieldForm()
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = CustomFieldForm(request.POST)
        if form.is_valid():
            try:
                field = services.create_custom_field(
                    request.user, product=product, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"Added field “{field.name}”: it is now a backlog column."
                )
                return redirect(
                    "backlog:custom-fields", slug=request.workspace.slug, key=product.key
                )
    return render(
        request,
        "backlog/fields.html",
        {
            **page_context(request, product, "fields"),
            "form": form,
            "fields": CustomField.objects.filter(product=product),
        },
    )


@require_POST
@workspace_view(edit=True)
def field_delete(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    field = get_object_or_404(CustomField, product=product, pk=pk)
    try:
        services.delete_custom_field(request.user, field=field)
    except ValidationError as exc:
        messages.error(request, errors_text(exc))
    else:
        messages.success(request, f"Deleted field “{field.name}”.")
    return redirect("backlog:custom-fields", slug=request.workspace.slug, key=product.key)
