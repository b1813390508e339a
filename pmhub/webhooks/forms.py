from django import forms

from .event_types import GROUPS
from .services import OVERLAPS


class GroupedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes in one fieldset per object (the choices' optgroups)."""


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/pmhub"}),
        help_text="http or https; the address must be public (see the note below).",
    )
    description = forms.CharField(max_length=200, required=False)
    event_types = forms.MultipleChoiceField(
        label="Events to send",
        choices=[(label, [(v, v) for v in verbs]) for label, verbs in GROUPS],
        widget=GroupedCheckboxes,
        required=False,
        help_text="None checked: every event.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class RotateForm(forms.Form):
    overlap_seconds = forms.TypedChoiceField(
        label="Keep the old secret signing for",
        choices=OVERLAPS,
        coerce=int,
        initial=24 * 3600,
    )
