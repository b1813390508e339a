"""Customers: the workspace's companies (by revenue, with their feedback on
this product and their people), adding one, and a company's page with its
recent feedback and a version-checked edit form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render

from pmhub.accounts.decorators import workspace_view
from pmhub.activity.reads import panel_context
from pmhub.panels import panels_for
from pmhub.web import apply_errors, get_in_workspace, save_with_conflict
from products.models import Product

from .. import reads, services
from ..forms import CompanyForm
from ..models import Company, Segment
from .base import page_context


@workspace_view()
def customers(request, key):
    product = get_in_workspace(request, Product, key=key)
    form = CompanyForm(workspace=request.workspace)
    status = 200
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = CompanyForm(request.POST, workspace=request.workspace)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k not in ("name", "version")}
            try:
                company = services.create_company(
                    request.user,
                    workspace=request.workspace,
                    name=form.cleaned_data["name"],
                    **fields,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Added {company.name}.")
                return redirect(
                    "feedback:feedback-customers", slug=request.workspace.slug, key=product.key
                )
        status = 400
    segment = request.GET.get("segment", "")
    return render(
        request,
        "feedback/customers.html",
        {
            **page_context(request, product, "customers"),
            **reads.customers(
                request.workspace, product, segment=segment if segment in Segment.values else ""
            ),
            "form": form,
            "segments": Segment.choices,
            "segment": segment,
        },
        status=status,
    )


@workspace_view()
def company_detail(request, key, pk):
    product = get_in_workspace(request, Product, key=key)
    company = get_in_workspace(request, Company, pk=pk)
    conflict = None
    status = 200
    form = CompanyForm(
        instance=company, workspace=request.workspace, initial={"version": company.version}
    )
    if request.method == "POST":
        if not request.can_edit:
            raise PermissionDenied
        form = CompanyForm(request.POST, instance=company, workspace=request.workspace)
        result = save_with_conflict(
            form,
            lambda data: services.update_company(
                request.user,
                company=Company.objects.get(pk=company.pk),
                expected_version=data.get("version") or company.version,
                fields={k: v for k, v in data.items() if k != "version"},
            ),
            rebase=False,  # the page asks to reload before editing their version
        )
        if result.saved:
            messages.success(request, f"{company.name} saved.")
            return redirect(
                "feedback:feedback-company", slug=request.workspace.slug, key=product.key, pk=pk
            )
        conflict = result.conflict
        status = 409 if result.conflicted else 400
    company.refresh_from_db()
    return render(
        request,
        "feedback/company.html",
        {
            **page_context(request, product, "customers"),
            **reads.company(product, company),
            "company": company,
            "form": form,
            "conflict": conflict,
            **panel_context(company),
            "panels": panels_for("feedback.company", request, company),
        },
        status=status,
    )
