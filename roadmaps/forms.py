"""Forms of the roadmap pages. They parse input; rules live in services."""

from django import forms

from products.models import Product

from .models import Commitment, DateMode, Granularity, Horizon, LaneBy, Layout, Milestone


class DateInput(forms.DateInput):
    input_type = "date"


class RoadmapForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=500, required=False, help_text="Who it is for, e.g. “Executive update”"
    )
    layout = forms.ChoiceField(choices=Layout.choices)
    lane_by = forms.ChoiceField(choices=LaneBy.choices, label="Lanes")
    granularity = forms.ChoiceField(choices=Granularity.choices, label="Timeline columns")
    start_date = forms.DateField(
        required=False, widget=DateInput, label="Timeline starts", help_text="Its month is used"
    )
    periods = forms.IntegerField(
        min_value=1, max_value=36, initial=12, label="Columns shown", help_text="1–36"
    )


class PortfolioForm(RoadmapForm):
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Two or more products",
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["products"].queryset = Product.objects.filter(workspace=workspace)
        self.fields["lane_by"].initial = LaneBy.PRODUCT


class EntryForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    title = forms.CharField(max_length=255, required=False)
    summary = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="Shown to stakeholders on shared pages",
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label="Internal notes",
        help_text="Share links can hide these",
    )
    commitment = forms.ChoiceField(choices=Commitment.choices)
    horizon = forms.ChoiceField(choices=Horizon.choices)
    start_date = forms.DateField(required=False, widget=DateInput)
    end_date = forms.DateField(required=False, widget=DateInput)
    lane = forms.ChoiceField(required=False)

    def __init__(self, *args, entry, lanes, **kwargs):
        super().__init__(*args, **kwargs)
        layout = entry.roadmap.layout
        if entry.item_id:
            del self.fields["title"]
        if layout != Layout.NOW_NEXT_LATER:
            del self.fields["horizon"]
        if layout != Layout.TIMELINE:
            del self.fields["start_date"]
            del self.fields["end_date"]
        if lanes:
            self.fields["lane"].choices = [
                ("", "No lane"),
                *[(str(la.pk), la.name) for la in lanes],
            ]
        else:
            del self.fields["lane"]


class AddEntryForm(forms.Form):
    item = forms.IntegerField(required=False)
    title = forms.CharField(max_length=255, required=False, label="Or a free-text card")
    commitment = forms.ChoiceField(choices=Commitment.choices, initial=Commitment.LIKELY)
    horizon = forms.ChoiceField(choices=Horizon.choices, required=False)
    start_date = forms.DateField(required=False, widget=DateInput)
    end_date = forms.DateField(required=False, widget=DateInput)


class MilestoneForm(forms.Form):
    name = forms.CharField(max_length=120)
    date = forms.DateField(widget=DateInput)
    kind = forms.ChoiceField(choices=Milestone.Kind.choices)


class LaneForm(forms.Form):
    name = forms.CharField(max_length=60, label="New lane")


class ShareLinkForm(forms.Form):
    label = forms.CharField(max_length=80, help_text="Who it is for, e.g. “Board, Q1 review”")
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for no expiry",
    )
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Optional; at least 6 characters",
    )
    hide_scores = forms.BooleanField(required=False, initial=True, label="Hide scores")
    hide_owners = forms.BooleanField(required=False, initial=True, label="Hide owners")
    hide_notes = forms.BooleanField(required=False, initial=True, label="Hide internal notes")
    live = forms.BooleanField(
        required=False,
        label="Update live",
        help_text="The open page shows changes without a reload",
    )
    date_mode = forms.ChoiceField(choices=DateMode.choices, label="Dates")
    exclude_commitments = forms.MultipleChoiceField(
        choices=Commitment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Leave out entries that are",
    )
    exclude_tags = forms.CharField(
        required=False,
        label="Leave out entries tagged",
        help_text="Tag names separated by commas",
    )
