from django import forms

from metrics.models import Metric
from pmhub.accounts.models import User
from products.models import Objective

from . import scoring
from .models import (
    CustomField,
    FieldKind,
    Hypothesis,
    Item,
    ItemType,
    ScoringKind,
    ScoringModel,
    Status,
)


class QuickAddForm(forms.Form):
    title = forms.CharField(
        max_length=255,
        widget=forms.TextInput(
            attrs={
                "placeholder": "Add an idea, feature or bug… (Enter to add)",
                "autocomplete": "off",
            }
        ),
    )
    type = forms.ChoiceField(choices=ItemType.choices, initial=ItemType.FEATURE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No maxlength attribute: the browser would cut a pasted title at 255
        # characters without a word. The server refuses it with a message.
        self.fields["title"].widget.attrs.pop("maxlength", None)

    def first_error(self) -> str:
        """The message the quick-add status line shows."""
        for field, errors in self.errors.items():
            if field == "title" and any("at most" in e for e in errors):
                length = len(self.data.get("title", ""))
                return f"Titles are at most 255 characters (this one has {length})."
            if field == "title":
                return "Give the item a title."
            return f"{field.capitalize()}: {errors[0]}"
        return ""


class ItemForm(forms.ModelForm):
    """Every editable field of an item, custom fields included."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tags = forms.CharField(
        required=False,
        help_text="Comma-separated",
        widget=forms.TextInput(attrs={"placeholder": "growth, eu"}),
    )

    class Meta:
        model = Item
        fields = [
            "title",
            "type",
            "status",
            "status_reason",
            "parent",
            "owner",
            "objectives",
            "effort",
            "value",
            "reach",
            "impact",
            "confidence",
            "ease",
            "business_value",
            "time_criticality",
            "risk_reduction",
            "job_size",
            "external_url",
            "external_key",
            "description",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "objectives": forms.CheckboxSelectMultiple,
            "status_reason": forms.TextInput(attrs={"placeholder": "Why declined or archived"}),
        }

    def __init__(self, *args, product, workspace, document=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.product = product
        if not document:
            # The item page edits its title and description in place, where
            # they are read (ItemDocForm); the side form keeps the rest.
            del self.fields["title"], self.fields["description"]
        self.fields["owner"].queryset = User.objects.filter(memberships__workspace=workspace)
        self.fields["objectives"].queryset = Objective.objects.filter(product=product)
        parents = Item.objects.filter(product=product, type=ItemType.EPIC)
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
            self.initial.setdefault("tags", ", ".join(t.name for t in self.instance.tags.all()))
        self.fields["parent"].queryset = parents
        self.fields["parent"].label = "Epic"
        for name, spec in scoring.INPUTS.items():
            if name in self.fields:
                self.fields[name].help_text = spec.help
                self.fields[name].widget.attrs.update({"step": "any", "min": spec.min})
                if spec.max is not None:
                    self.fields[name].widget.attrs["max"] = spec.max
        for name, f in self.fields.items():
            value = self.initial.get(
                name, getattr(self.instance, name, None) if name in scoring.INPUTS else None
            )
            if isinstance(f, forms.FloatField) and isinstance(value, float) and value.is_integer():
                self.initial[name] = int(value)  # show 2, not 2.0
        self.custom_fields = list(CustomField.objects.filter(product=product))
        for cf in self.custom_fields:
            self.fields[f"cf_{cf.pk}"] = custom_form_field(cf, self.instance.custom.get(str(cf.pk)))

    def clean_tags(self):
        return [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]

    def item_fields(self) -> dict:
        data = {
            name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data
        }
        data["tags"] = self.cleaned_data.get("tags", [])
        data["objectives"] = list(data.get("objectives") or [])
        data["custom"] = {
            str(cf.pk): self.cleaned_data.get(f"cf_{cf.pk}")
            for cf in self.custom_fields
            if self.cleaned_data.get(f"cf_{cf.pk}") not in (None, "")
        }
        for key, value in data["custom"].items():
            if hasattr(value, "isoformat"):
                data["custom"][key] = value.isoformat()
        return data

    def _post_clean(self):
        # Model validation happens in the service (one rule, one place); skip
        # ModelForm's instance validation, which would also mutate the instance.
        pass


class ItemDocForm(forms.Form):
    """The item's title and description, edited where the page shows them."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(max_length=255)
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="Markdown: **bold**, lists, links, headings",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].widget.attrs.pop("maxlength", None)  # refused with a message


def custom_form_field(cf: CustomField, initial=None) -> forms.Field:
    label = cf.name
    if cf.kind == FieldKind.NUMBER:
        if isinstance(initial, float) and initial.is_integer():
            initial = int(initial)
        return forms.FloatField(
            label=label,
            required=False,
            initial=initial,
            min_value=cf.min_value,
            max_value=cf.max_value,
            widget=forms.NumberInput(attrs={"step": "any"}),
        )
    if cf.kind == FieldKind.SELECT:
        return forms.ChoiceField(
            label=label,
            required=False,
            initial=initial,
            choices=[("", "—")] + [(o, o) for o in cf.options],
        )
    if cf.kind == FieldKind.DATE:
        return forms.DateField(
            label=label,
            required=False,
            initial=initial,
            widget=forms.DateInput(attrs={"type": "date"}),
        )
    return forms.CharField(label=label, required=False, initial=initial, max_length=500)


class CellForm(forms.Form):
    """One field of one row, edited in place in the table."""

    version = forms.IntegerField(widget=forms.HiddenInput)


CELL_FIELDS = ("title", "status", "type", "owner", "effort", "value")


class BulkForm(forms.Form):
    items = forms.ModelMultipleChoiceField(
        queryset=Item.objects.none(), widget=forms.MultipleHiddenInput
    )
    status = forms.ChoiceField(choices=[("", "Status…"), *Status.choices], required=False)
    status_reason = forms.CharField(required=False, max_length=500)
    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="Owner…"
    )
    add_tag = forms.CharField(required=False, max_length=40)
    remove_tag = forms.CharField(required=False, max_length=40)
    objective = forms.ModelChoiceField(
        queryset=Objective.objects.none(), required=False, empty_label="Add objective…"
    )

    def __init__(self, *args, product, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].queryset = Item.objects.filter(product=product)
        self.fields["owner"].queryset = User.objects.filter(memberships__workspace=workspace)
        self.fields["objective"].queryset = Objective.objects.filter(product=product)


class ScoringModelForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ScoringModel
        fields = ["name", "kind"]


class CriterionForm(forms.Form):
    name = forms.CharField(max_length=60)
    source = forms.ChoiceField(choices=[])
    weight = forms.FloatField(min_value=0.01, initial=1)
    min = forms.FloatField(initial=0)
    max = forms.FloatField(initial=10)
    higher_is_better = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = sources


class CustomFieldForm(forms.ModelForm):
    options = forms.CharField(required=False, help_text="Single select: comma-separated options")

    class Meta:
        model = CustomField
        fields = ["name", "kind", "options", "min_value", "max_value"]

    def clean_options(self):
        return [o.strip() for o in self.cleaned_data["options"].split(",") if o.strip()]


SCORING_KIND_HELP = {
    ScoringKind.RICE: "Reach × Impact × Confidence ÷ Effort — Intercom's classic.",
    ScoringKind.ICE: "Impact × Confidence × Ease — quick growth experiments.",
    ScoringKind.WSJF: "(Business value + Time criticality + Risk reduction) ÷ Job size — SAFe.",
    ScoringKind.VALUE_EFFORT: "Value ÷ Effort — the simplest thing that works.",
    ScoringKind.WEIGHTED: "Your own criteria with weights, including custom number fields.",
}


WINDOW_CHOICES = [
    (7, "1 week"),
    (14, "2 weeks"),
    (28, "4 weeks"),
    (56, "8 weeks"),
    (84, "12 weeks"),
]


class HypothesisForm(forms.ModelForm):
    """The item's launch hypothesis; ``version`` makes a stale save a conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    window_days = forms.TypedChoiceField(
        label="Window",
        choices=WINDOW_CHOICES,
        coerce=int,
        initial=28,
        help_text="Compared on each side of the launch day",
    )

    class Meta:
        model = Hypothesis
        fields = ["metric", "expected_change", "window_days", "adoption_metric"]
        labels = {"metric": "Metric to move", "adoption_metric": "Adoption metric"}

    def __init__(self, *args, product=None, **kwargs):
        super().__init__(*args, **kwargs)
        metrics = Metric.objects.filter(product=product).order_by("name")
        self.fields["metric"].queryset = metrics
        self.fields["metric"].required = True
        self.fields["adoption_metric"].queryset = metrics
        self.fields["adoption_metric"].empty_label = "— none —"
        self.fields["expected_change"].widget.attrs["step"] = "any"

    def field_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class LearningsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    learnings = forms.CharField(
        label="What did the launch teach?",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Markdown. What worked, what didn't, what you will do differently.",
    )
