from django import forms

from pmhub.accounts.models import User

from . import extensions
from .models import Competitor, KeyResult, Objective, Persona, Product, Vision

_MD = "Markdown"


def _textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


class VersionedForm(forms.ModelForm):
    """A ModelForm that carries the version it was based on, so a stale save
    becomes a conflict instead of an overwrite."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def field_values(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in self._field_names()
            if name in self.cleaned_data
        }

    def _field_names(self):
        return self._meta.fields


class ProductCreateForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["name", "key", "stage", "description"]
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "Payments", "autofocus": True}),
            "key": forms.TextInput(
                attrs={"placeholder": "PAY", "class": "mono", "autocapitalize": "characters"}
            ),
            "description": _textarea(3),
        }
        help_texts = {
            "key": "2–10 letters or digits; item keys will read like PAY-42.",
            "description": _MD,
        }

    def clean_key(self):
        return self.cleaned_data["key"].strip().upper()

    def validate_unique(self):
        pass  # the service checks the key within the workspace


class ProductForm(VersionedForm):
    class Meta:
        model = Product
        fields = ["name", "stage", "description"]
        widgets = {"description": _textarea(4)}


class VisionForm(VersionedForm):
    class Meta:
        model = Vision
        fields = [
            "statement",
            "target_customers",
            "problem",
            "value_proposition",
            "differentiation",
        ]
        widgets = {name: _textarea(3) for name in fields}
        labels = {"statement": "Vision statement", "problem": "Customer problem"}


class ObjectiveForm(VersionedForm):
    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(memberships__workspace=workspace)

    class Meta:
        model = Objective
        fields = ["title", "why", "period", "status", "owner"]
        widgets = {"why": _textarea(3), "period": forms.TextInput(attrs={"placeholder": "2027 Q1"})}
        labels = {"why": "Why it matters"}


class KeyResultForm(VersionedForm):
    """A key result's own fields, then those downstream apps add to it
    (products.extensions: e.g. the metric it follows)."""

    def __init__(self, *args, product=None, **kwargs):
        super().__init__(*args, **kwargs)
        for extension in extensions.key_result_extensions():
            self.fields.update(extension.form_fields(product=product))
            if self.instance.pk is not None:
                for name, value in extension.initial(self.instance).items():
                    self.initial.setdefault(name, value)
        for name in ("start_value", "target_value", "current_value"):
            self.fields[name].widget.attrs["step"] = "any"
            value = getattr(self.instance, name, None)
            if isinstance(value, float) and value.is_integer():
                self.initial[name] = int(value)  # show 72, not 72.0

    def _field_names(self):
        return [*self._meta.fields, *sorted(extensions.extended_field_names())]

    class Meta:
        model = KeyResult
        fields = [
            "name",
            "unit",
            "start_value",
            "target_value",
            "current_value",
            "direction",
        ]
        labels = {
            "start_value": "Start",
            "target_value": "Target",
            "current_value": "Current",
        }


class CompetitorForm(VersionedForm):
    class Meta:
        model = Competitor
        fields = [
            "name",
            "website",
            "threat_level",
            "positioning",
            "strengths",
            "weaknesses",
            "notes",
        ]
        widgets = {
            name: _textarea(2) for name in ["positioning", "strengths", "weaknesses", "notes"]
        }


class PersonaForm(VersionedForm):
    class Meta:
        model = Persona
        fields = ["name", "role", "goals", "pains"]
        widgets = {"goals": _textarea(3), "pains": _textarea(3)}
