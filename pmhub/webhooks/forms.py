from django import forms

from .event_types import GROUPS
from .services import OVERLAPS


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
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None checked: every event.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Types subscribed through the API that the page does not list stay choosable.
        listed = {v for _label, verbs in GROUPS for v in verbs}
        extra = sorted(set(self.initial.get("event_types") or ()) - listed)
        if extra:
            field = self.fields["event_types"]
            field.choices = [*field.choices, ("Other", [(v, v) for v in extra])]


class RotateForm(forms.Form):
    overlap_seconds = forms.TypedChoiceField(
        label="Keep the old secret signing for",
        choices=OVERLAPS,
        coerce=int,
        initial=24 * 3600,
    )
