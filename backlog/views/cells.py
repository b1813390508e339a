"""Inline edits of the backlog table's cells: GET shows a cell's editor,
POST saves through ``services.update_item`` and answers the row (or the
editor with an error, or the row as someone else saved it)."""

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.vary import vary_on_headers

from pmhub.accounts.decorators import workspace_view
from pmhub.accounts.models import User
from pmhub.errors import VersionConflict
from pmhub.undo import offer_undo
from pmhub.web import get_in_workspace, int_param
from products.models import Product

from .. import scoring, services, undo
from ..filters import BacklogQuery
from ..forms import CELL_FIELDS
from ..models import REASON_STATUSES, CustomField, ItemType, Status
from ..reads import ScoreExplainer
from .common import LIST, errors_text, get_item, page_context
from .table import row_response


@vary_on_headers("HX-Request")
@workspace_view(edit=True)
def cell_edit(request, key, number, field):
    if field not in CELL_FIELDS and field != "inputs":
        raise Http404("Not editable inline.")
    product = get_in_workspace(request, Product, key=key)
    item = get_item(request, product, number)
    query = BacklogQuery.from_params(request.GET, CustomField.objects.filter(product=product))
    if field == "inputs":
        return _inputs_cell(request, product, item, query)
    if request.method == "POST":
        raw = request.POST.get("value", "")
        version = int_param(request.POST.get("version"), item.version)
        try:
            value = _parse_cell(field, raw)
            extra = {}
            if field == "status" and value in REASON_STATUSES:
                extra["status_reason"] = request.POST.get("status_reason", "")
            before = (
                undo.snapshot([item.pk]) if field == "status" and value in REASON_STATUSES else None
            )
            services.update_item(
                request.user, item=item, expected_version=version, fields={field: value, **extra}
            )
        except ValidationError as exc:
            ctx = _editor_context(request, product, item, field, query)
            ctx.update(error=errors_text(exc), value=raw)
            response = render(request, f"{LIST}#cell-editor", ctx)
            # The editor comes back into its cell; the form's own target is the
            # whole row (what a successful save answers).
            response["HX-Retarget"] = "closest td"
            response["HX-Reswap"] = "innerHTML"
            return response
        except VersionConflict as exc:
            return row_response(request, product, query, item.pk, conflict=exc.current is not None)
        response = row_response(request, product, query, item.pk)
        if before:  # archiving or declining takes the item off most views: undoable
            label = dict(Status.choices)[value].lower()
            offer_undo(
                request,
                response,
                kind=undo.KIND,
                payload=undo.stamp_versions(before),
                message=f"{item.key} {label}.",
            )
        return response
    if request.GET.get("row"):  # the editor's Cancel
        return row_response(request, product, query, item.pk)
    return render(
        request, f"{LIST}#cell-editor", _editor_context(request, product, item, field, query)
    )


def missing_inputs(product, item) -> list[tuple[str, str]]:
    """(source, label) of what the active model needs and the item lacks:
    built-in inputs and number custom fields (both typed in the row)."""
    explainer = ScoreExplainer(product)
    model = explainer.model
    if model is None:
        return []
    values = explainer.values(item)
    if model.kind == "weighted":
        wanted = [(c.source, c.name) for c in explainer.criteria]
    else:
        wanted = [(n, scoring.INPUTS[n].label) for n in scoring.FRAMEWORK_INPUTS[model.kind]]
    return [
        (source, label)
        for source, label in wanted
        if values.get(source) is None and source not in scoring.ZERO_WHEN_UNSET
    ]


def _inputs_cell(request, product, item, query):
    """The score cell of an unscored item: fill what the model is missing,
    in the row, in one save (with the item's version)."""
    missing = missing_inputs(product, item)
    if request.method != "POST":
        if request.GET.get("row") or not missing:
            return row_response(request, product, query, item.pk)
        ctx = _editor_context(request, product, item, "inputs", query)
        ctx["inputs"] = [(source, label, "") for source, label in missing]
        return render(request, f"{LIST}#inputs-editor", ctx)
    fields, custom, errors = {}, dict(item.custom or {}), {}
    for source, label in missing:
        raw = request.POST.get(f"in_{source}", "").strip()
        if not raw:
            continue
        try:
            number = float(raw)
        except ValueError:
            errors[label] = "Enter a number."
            continue
        if source.startswith("cf:"):
            custom[source[3:]] = number
        else:
            fields[source] = number
    if custom != (item.custom or {}):
        fields["custom"] = custom
    try:
        if errors:
            raise ValidationError(errors)
        services.update_item(
            request.user,
            item=item,
            expected_version=int_param(request.POST.get("version"), item.version),
            fields=fields,
        )
    except ValidationError as exc:
        ctx = _editor_context(request, product, item, "inputs", query)
        typed = [(src, label, request.POST.get(f"in_{src}", "")) for src, label in missing]
        ctx.update(inputs=typed, error=errors_text(exc))  # what was typed stays
        response = render(request, f"{LIST}#inputs-editor", ctx)
        response["HX-Retarget"] = "closest td"
        response["HX-Reswap"] = "innerHTML"
        return response
    except VersionConflict as exc:
        return row_response(request, product, query, item.pk, conflict=exc.current is not None)
    return row_response(request, product, query, item.pk)


def _editor_context(request, product, item, field, query) -> dict:
    return {
        **page_context(request, product),
        "item": item,
        "field": field,
        "query": query,
        "qs": query.querystring(),  # the row answered after a save keeps the page's sort
        "members": User.objects.filter(memberships__workspace=request.workspace).order_by(
            "username"
        ),
        "statuses": Status.choices,
        "types": ItemType.choices,
    }


def _parse_cell(field, raw):
    raw = raw.strip()
    if field in ("effort", "value"):
        if raw == "":
            return None
        try:
            return float(raw)
        except ValueError:
            raise ValidationError({field: "Enter a number."}) from None
    if field == "owner":
        if not raw:
            return None
        user = User.objects.filter(pk=raw).first() if raw.isdigit() else None
        if user is None:
            raise ValidationError({"owner": "Choose a member of this workspace."})
        return user  # membership is the service's rule (update_item)
    return raw
