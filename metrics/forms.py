from django import forms

from .models import Metric


class MetricForm(forms.ModelForm):
    """A metric's definition; ``version`` makes a stale save a conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Metric
        fields = ["name", "unit", "aggregation", "direction", "target", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].widget.attrs["step"] = "any"

    def field_values(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self._meta.fields if name in self.cleaned_data
        }


class DatapointUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Header row: timestamp,value (dedupe_key optional). "
        "Timestamps in ISO 8601; without an offset they are UTC.",
    )
    all_or_nothing = forms.BooleanField(required=False, label="Store nothing if any row is invalid")
