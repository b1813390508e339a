"""pmhub/web.py (the helpers every HTML view uses) and pmhub/querysets.py
(the one workspace scope every model reads through)."""

import pytest
from django import forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.http import Http404, QueryDict
from django.test import RequestFactory

from pmhub.errors import VersionConflict
from pmhub.querysets import WorkspaceScopedQuerySet
from pmhub.web import apply_errors, get_in_workspace, int_param, save_with_conflict
from products.models import Product

from .factories import ProductFactory, WorkspaceFactory


class NameForm(forms.Form):
    name = forms.CharField(max_length=20)
    version = forms.IntegerField(required=False)


class Row:
    def __init__(self, version):
        self.version = version


def _form(**data):
    return NameForm(QueryDict(mutable=True) | {k: str(v) for k, v in data.items()})


def _request(workspace):
    request = RequestFactory().get("/")
    request.workspace = workspace
    return request


# --- lookups and scopes --------------------------------------------------------------------


def test_get_in_workspace_finds_only_the_requests_workspace_rows(db, workspace, product):
    other = ProductFactory(workspace=WorkspaceFactory(slug="other"), key="PAY")
    assert get_in_workspace(_request(workspace), Product, key="PAY") == product
    assert get_in_workspace(_request(other.workspace), Product, key="PAY") == other
    with pytest.raises(Http404):
        get_in_workspace(_request(workspace), Product, pk=other.pk)
    queryset = Product.objects.select_related("workspace")
    assert get_in_workspace(_request(workspace), queryset, key="PAY") == product


def test_every_visible_to_is_the_workspace_scope(db, pm, stranger, workspace, product):
    """Each model's visible_to and in_workspace come from the one base, and
    its declared path leads to the workspace (the queries run)."""
    scoped = [
        model for model in apps.get_models() if hasattr(model._default_manager.all(), "visible_to")
    ]
    assert len(scoped) >= 10
    for model in scoped:
        queryset = model._default_manager.all()
        assert isinstance(queryset, WorkspaceScopedQuerySet), model
        assert not hasattr(queryset, "editable_by"), model
        list(queryset.visible_to(pm)[:1])
        list(queryset.in_workspace(workspace)[:1])
    assert list(Product.objects.visible_to(pm)) == [product]
    assert not Product.objects.visible_to(stranger).exists()
    assert list(Product.objects.in_workspace(workspace)) == [product]


def test_int_param():
    assert int_param("12") == 12
    assert int_param(" -3 ") == -3
    assert int_param(None) is None
    assert int_param("x", 0) == 0
    assert int_param("1.5", 7) == 7


# --- apply_errors and the save-with-conflict flow ----------------------------------------------


def test_apply_errors_maps_fields_and_the_rest_to_non_field_errors():
    form = _form(name="a")
    form.is_valid()
    apply_errors(form, ValidationError({"name": "Taken.", "elsewhere": "Bad."}))
    assert form.errors["name"] == ["Taken."]
    assert form.non_field_errors() == ["Bad."]
    form = _form(name="a")
    form.is_valid()
    apply_errors(form, ValidationError("Nope."))
    assert form.non_field_errors() == ["Nope."]


def test_save_with_conflict_saves_a_valid_form():
    result = save_with_conflict(_form(name="a", version=1), lambda data: data["name"].upper())
    assert (result.saved, result.value, result.conflicted) == (True, "A", False)


def test_invalid_form_and_service_errors_are_not_saved():
    calls = []
    result = save_with_conflict(_form(name=""), calls.append)
    assert not result.saved and not calls and "name" in result.form.errors

    def refuse(data):
        raise ValidationError({"name": "Taken."})

    result = save_with_conflict(_form(name="a"), refuse)
    assert not result.saved and not result.conflicted
    assert result.form.errors["name"] == ["Taken."]


def _conflict(current):
    def save(data):
        raise VersionConflict(current=current)

    return save


def test_conflict_keeps_the_typed_values_on_the_current_version():
    form = _form(name="mine", version=3)
    result = save_with_conflict(form, _conflict(Row(5)))
    assert result.conflicted and not result.gone and result.conflict.version == 5
    assert result.form is form
    assert (form["name"].value(), form["version"].value()) == ("mine", "5")


def test_conflict_can_rebind_the_form_and_fall_back_when_the_row_is_gone():
    seen = []

    def rebind(data, current):
        seen.append(current)
        return NameForm(data)

    result = save_with_conflict(
        _form(name="mine", version=3), _conflict(None), rebind=rebind, fallback_version=0
    )
    assert result.gone and seen == [None]
    assert result.form["version"].value() == "0" and result.form.is_valid()


def test_conflict_without_rebase_leaves_the_form_as_posted():
    form = _form(name="mine", version=3)
    result = save_with_conflict(form, _conflict(Row(5)), rebase=False)
    assert result.conflicted and form["version"].value() == "3"
