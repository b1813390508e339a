"""HTML views for products and the strategy page.

Every region of the strategy page (product header, vision, each objective,
key result, competitor and persona) is a template partial. Editing in place:
GET …/edit/ swaps the region for its form; POST saves through the service
and swaps the display back, or re-renders the form with errors or with a
conflict panel. Without JavaScript the same URLs render full pages.
"""

import contextlib
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect

from pmhub import onboarding
from pmhub.accounts.decorators import workspace_view
from pmhub.errors import VersionConflict
from pmhub.web import apply_errors, get_in_workspace, save_with_conflict

from . import extensions, forms, services
from .models import VISION_FIELDS, Competitor, KeyResult, Objective, Persona, Product, Stage

STRATEGY = "products/strategy.html"


@dataclass(frozen=True)
class Region:
    """How one kind of strategy object is shown, edited, created and deleted."""

    model: type
    form: type
    partial: str
    update: object
    delete: object = None
    create: object = None
    label: str = ""

    def objects(self, product):
        if self.model is Product:
            return Product.objects.filter(pk=product.pk)
        if self.model is KeyResult:
            return KeyResult.objects.filter(objective__product=product)
        return self.model.objects.filter(product=product)


REGIONS = {
    "product": Region(
        Product,
        forms.ProductForm,
        "product-header",
        lambda a, o, v, f: services.update_product(a, product=o, expected_version=v, fields=f),
        label="product",
    ),
    "vision": Region(
        services.Vision,
        forms.VisionForm,
        "vision",
        lambda a, o, v, f: services.update_vision(a, vision=o, expected_version=v, fields=f),
        label="vision",
    ),
    "objective": Region(
        Objective,
        forms.ObjectiveForm,
        "objective",
        lambda a, o, v, f: services.update_objective(a, objective=o, expected_version=v, fields=f),
        lambda a, o, v: services.delete_objective(a, objective=o, expected_version=v),
        lambda a, p, f: services.create_objective(a, product=p, **f),
        label="objective",
    ),
    "keyresult": Region(
        KeyResult,
        forms.KeyResultForm,
        "key-result",
        lambda a, o, v, f: services.update_key_result(
            a, key_result=o, expected_version=v, fields=f
        ),
        lambda a, o, v: services.delete_key_result(a, key_result=o, expected_version=v),
        label="key result",
    ),
    "competitor": Region(
        Competitor,
        forms.CompetitorForm,
        "competitor",
        lambda a, o, v, f: services.update_competitor(
            a, competitor=o, expected_version=v, fields=f
        ),
        lambda a, o, v: services.delete_competitor(a, competitor=o, expected_version=v),
        lambda a, p, f: services.create_competitor(a, product=p, **f),
        label="competitor",
    ),
    "persona": Region(
        Persona,
        forms.PersonaForm,
        "persona",
        lambda a, o, v, f: services.update_persona(a, persona=o, expected_version=v, fields=f),
        lambda a, o, v: services.delete_persona(a, persona=o, expected_version=v),
        lambda a, p, f: services.create_persona(a, product=p, **f),
        label="persona",
    ),
}


def _region(kind) -> Region:
    try:
        return REGIONS[kind]
    except KeyError:
        raise Http404("Unknown section.") from None


def _make_form(region: Region, request, *, product=None, data=None, instance=None, initial=None):
    kwargs = {"data": data, "instance": instance, "initial": initial}
    if region.form is forms.ObjectiveForm:
        kwargs["workspace"] = request.workspace
    if region.form is forms.KeyResultForm:
        kwargs["product"] = product
    return region.form(**kwargs)


def _obj_context(kind, obj) -> dict:
    """The context a region's display partial expects."""
    name = {"keyresult": "kr"}.get(kind, kind)
    ctx = {name: obj}
    if kind == "keyresult":
        ctx["objective"] = obj.objective
    return ctx


def _base_context(request, product) -> dict:
    return {
        "workspace": request.workspace,
        "product": product,
        "can_edit": request.can_edit,
        "section": "strategy",
        "stages": Stage.choices,
        # What downstream apps show on a key result's line (products.extensions).
        "key_result_badges": extensions.badge_templates(),
    }


def _strategy_context(request, product) -> dict:
    return {
        **_base_context(request, product),
        "vision": services.vision_of(product),
        "objectives": Objective.objects.filter(product=product).for_strategy(),
        "competitors": Competitor.objects.filter(product=product),
        "personas": Persona.objects.filter(product=product),
    }


# --- pages ------------------------------------------------------------------------


@workspace_view()
def workspace_home(request):
    workspace = request.workspace
    form = forms.ProductCreateForm()
    products = Product.objects.in_workspace(workspace).for_home()
    return render(
        request,
        "products/workspace_home.html",
        {
            "workspace": workspace,
            "products": products,
            "form": form,
            "can_edit": request.can_edit,
            **_first_run(request),
        },
    )


def _first_run(request) -> dict:
    """The first-run checklist while a step is open (editors only), and the
    session mark that makes the pages in between show the next step."""
    if not request.can_edit:
        return {}
    states = onboarding.checklist(request.workspace, onboarding.first_product(request.workspace))
    if onboarding.next_step(states) is None:
        request.session.pop(onboarding.SESSION_KEY, None)
        return {}
    request.session[onboarding.SESSION_KEY] = request.workspace.slug
    return {"checklist": states, "checklist_next": onboarding.next_step(states)}


@require_POST
@workspace_view(edit=True)
def product_create(request):
    form = forms.ProductCreateForm(request.POST)
    if form.is_valid():
        try:
            product = services.create_product(
                request.user, workspace=request.workspace, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{product.name} created. Start with its vision.")
            return redirect("products:strategy", slug=request.workspace.slug, key=product.key)
    products = Product.objects.in_workspace(request.workspace).for_home()
    return render(
        request,
        "products/workspace_home.html",
        {
            "workspace": request.workspace,
            "products": products,
            "form": form,
            "can_edit": request.can_edit,
            "show_form": True,
            **_first_run(request),
        },
    )


@workspace_view()
def strategy(request, key):
    product = get_in_workspace(request, Product, key=key)
    return render(request, STRATEGY, _strategy_context(request, product))


@workspace_view()
def vision_history(request, key):
    product = get_in_workspace(request, Product, key=key)
    vision = services.vision_of(product)
    return render(
        request,
        "products/vision_history.html",
        {
            **_base_context(request, product),
            "vision": vision,
            "history": vision.history.select_related("edited_by"),
            "fields": VISION_FIELDS,
        },
    )


@require_POST
@workspace_view(edit=True)
def product_delete(request, key):
    product = get_in_workspace(request, Product, key=key)
    services.delete_product(request.user, product=product)
    messages.success(request, f"{product.name} deleted.")
    url = reverse("products:workspace", args=[request.workspace.slug])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- regions: display, edit, create, delete ----------------------------------------


def _get_obj(request, product, kind, pk):
    region = _region(kind)
    if kind == "vision":
        return region, services.vision_of(product)
    if kind == "product":
        return region, product
    return region, get_object_or_404(region.objects(product), pk=pk)


@vary_on_headers("HX-Request")
@workspace_view()
def region_show(request, key, kind, pk=None):
    product = get_in_workspace(request, Product, key=key)
    region, obj = _get_obj(request, product, kind, pk)
    if not request.htmx:
        return redirect("products:strategy", slug=request.workspace.slug, key=product.key)
    ctx = {**_base_context(request, product), **_obj_context(kind, obj)}
    return render(request, f"{STRATEGY}#{region.partial}", ctx)


def _dom_id(kind, obj) -> str:
    if kind in ("product", "vision"):
        return {"product": "product-header", "vision": "vision"}[kind]
    return f"{ {'keyresult': 'kr'}.get(kind, kind) }-{obj.pk}"


def _refresh_target(kind, obj=None, parent=None) -> str:
    """The DOM id of the region to re-render after a create or delete."""
    if kind == "keyresult":
        objective_id = parent.pk if parent is not None else obj.objective_id
        return f"objective-{objective_id}"
    return {"objective": "objectives", "competitor": "competitors", "persona": "personas"}[kind]


def _render_form(request, product, kind, form, *, obj=None, parent=None, conflict=None, status=200):
    region = _region(kind)
    slug, key = request.workspace.slug, product.key
    pk_args = [slug, key, kind] + (
        [obj.pk] if obj is not None and kind not in ("product", "vision") else []
    )
    if obj is not None:
        action = reverse("products:region-edit", args=pk_args)
        form_id = _dom_id(kind, obj)
        cancel_hx = reverse("products:region", args=pk_args)
    elif parent is not None:
        action = reverse("products:keyresult-new", args=[slug, key, parent.pk])
        form_id, cancel_hx = f"objective-{parent.pk}-kr-form", None
    else:
        action = reverse("products:region-new", args=[slug, key, kind])
        form_id, cancel_hx = f"{kind}-form", None
    conflict_html = None
    if conflict is not None:
        conflict_html = render_to_string(
            f"{STRATEGY}#{region.partial}",
            {**_base_context(request, product), "can_edit": False, **_obj_context(kind, conflict)},
            request=request,
        )
        # A read-only copy inside the form: its ids must not clash with the live regions.
        conflict_html = mark_safe(conflict_html.replace(' id="', ' data-copy-of="'))
    ctx = {
        **_base_context(request, product),
        "form": form,
        "obj": obj,
        "region": region,
        "action": action,
        "form_id": form_id,
        "cancel_url": reverse("products:strategy", args=[slug, key]),
        "cancel_hx": cancel_hx,
        "delete_url": reverse("products:region-delete", args=pk_args)
        if obj is not None and region.delete
        else None,
        "refresh_target": _refresh_target(kind, obj) if obj is not None and region.delete else "",
        "conflict": conflict,
        "conflict_html": conflict_html,
    }
    template = "products/edit.html#inline-form" if request.htmx else "products/edit.html"
    return render(request, template, ctx, status=status)


def _render_region(request, product, kind, obj):
    """The display partial of one region, fresh from the database."""
    if kind == "product":
        obj = Product.objects.get(pk=obj.pk)
    elif kind == "objective":
        obj = Objective.objects.for_strategy().get(pk=obj.pk)
    ctx = {**_base_context(request, product), **_obj_context(kind, obj)}
    return render(request, f"{STRATEGY}#{_region(kind).partial}", ctx)


def _render_section(request, product, target: str):
    """Re-render a section (or, for key results, their objective) after a
    create or delete; htmx swaps it in place of ``#target``."""
    if target.startswith("objective-"):
        objective = get_object_or_404(
            Objective.objects.for_strategy(),
            product=product,
            pk=int(target.removeprefix("objective-")),
        )
        response = render(
            request,
            f"{STRATEGY}#objective",
            {**_base_context(request, product), "objective": objective},
        )
    else:
        response = render(request, f"{STRATEGY}#{target}", _strategy_context(request, product))
    response["HX-Retarget"] = f"#{target}"
    response["HX-Reswap"] = "outerHTML"
    return response


@vary_on_headers("HX-Request")
@workspace_view(edit=True)
def region_edit(request, key, kind, pk=None):
    product = get_in_workspace(request, Product, key=key)
    region, obj = _get_obj(request, product, kind, pk)
    if request.method != "POST":
        form = _make_form(
            region, request, product=product, instance=obj, initial={"version": obj.version}
        )
        return _render_form(request, product, kind, form, obj=obj)

    form = _make_form(region, request, product=product, data=request.POST, instance=obj)
    result = save_with_conflict(
        form,
        lambda data: region.update(
            request.user, obj, data.get("version") or obj.version, form.field_values()
        ),
        # Saving again now overwrites theirs, knowingly.
        rebind=lambda data, current: _make_form(
            region,
            request,
            product=product,
            data=data,
            instance=type(current)._base_manager.get(pk=current.pk) if current else None,
        ),
    )
    if result.gone:
        messages.error(request, f"This {region.label} was deleted by someone else.")
        return _after_change(request, product)
    if result.conflicted:
        # htmx swaps only 2xx responses; a plain form post gets an honest 409.
        return _render_form(
            request,
            product,
            kind,
            result.form,
            obj=obj,
            conflict=result.conflict,
            status=200 if request.htmx else 409,
        )
    if not result.saved:
        return _render_form(request, product, kind, form, obj=obj)
    saved = result.value
    if not request.htmx:
        messages.success(request, "Saved.")
        return redirect("products:strategy", slug=request.workspace.slug, key=product.key)
    if kind == "keyresult":
        return _render_section(request, product, _refresh_target(kind, saved))
    return _render_region(request, product, kind, saved)


def _after_change(request, product):
    url = reverse("products:strategy", args=[request.workspace.slug, product.key])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@vary_on_headers("HX-Request")
@workspace_view(edit=True)
def region_new(request, key, kind, parent_pk=None):
    """Create an objective, competitor or persona — or a key result under
    objective ``parent_pk``."""
    product = get_in_workspace(request, Product, key=key)
    region = _region(kind)
    parent = None
    if kind == "keyresult":
        parent = get_object_or_404(Objective, product=product, pk=parent_pk)
    elif region.create is None:
        raise Http404("Cannot create this.")
    if request.method != "POST":
        return _render_form(
            request, product, kind, _make_form(region, request, product=product), parent=parent
        )
    form = _make_form(region, request, product=product, data=request.POST)
    if form.is_valid():
        fields = form.field_values()
        try:
            if parent is not None:
                services.create_key_result(request.user, objective=parent, **fields)
            else:
                region.create(request.user, product, fields)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            if not request.htmx:
                messages.success(request, f"Added {region.label}.")
                return redirect("products:strategy", slug=request.workspace.slug, key=product.key)
            return _render_section(request, product, _refresh_target(kind, parent=parent))
    return _render_form(request, product, kind, form, parent=parent)


@require_POST
@workspace_view(edit=True)
def region_delete(request, key, kind, pk):
    product = get_in_workspace(request, Product, key=key)
    region, obj = _get_obj(request, product, kind, pk)
    if region.delete is None:
        raise PermissionDenied("This cannot be deleted here.")
    target = _refresh_target(kind, obj)
    with contextlib.suppress(VersionConflict):  # already gone is fine
        region.delete(request.user, obj, None)
    if request.htmx:
        return _render_section(request, product, target)
    messages.success(request, f"Deleted {region.label} “{obj}”.")
    return _after_change(request, product)
