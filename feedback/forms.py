from django import forms

from .models import Company, Segment, Source


class QuickAddForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "Paste what the customer said…", "maxlength": 20000}
        )
    )
    source = forms.ChoiceField(choices=Source.choices, initial=Source.EMAIL)
    email = forms.EmailField(required=False, label="Customer email")
    name = forms.CharField(required=False, max_length=200, label="Customer name")
    company_name = forms.CharField(required=False, max_length=200, label="Company")
    tags = forms.CharField(required=False, help_text="Comma-separated")


class CompanyForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Company
        fields = ["name", "domain", "segment", "plan", "annual_revenue", "owner"]

    def __init__(self, *args, workspace=None, **kwargs):
        super().__init__(*args, **kwargs)
        from pmhub.accounts.models import User

        self.fields["owner"].queryset = User.objects.filter(memberships__workspace=workspace)
        self.fields["segment"].choices = Segment.choices


class PortalSettingsForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    enabled = forms.BooleanField(required=False, label="Portal is public")
    title = forms.CharField(required=False, max_length=120)
    intro = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    half_life_days = forms.IntegerField(
        min_value=1, max_value=3650, label="Demand half-life (days)"
    )
    weight_smb = forms.FloatField(min_value=0, max_value=100, label="SMB weight")
    weight_mid_market = forms.FloatField(min_value=0, max_value=100, label="Mid-market weight")
    weight_enterprise = forms.FloatField(min_value=0, max_value=100, label="Enterprise weight")
    weight_other = forms.FloatField(min_value=0, max_value=100, label="Other weight")

    def fields_for_service(self) -> dict:
        data = self.cleaned_data
        return {
            "enabled": data["enabled"],
            "title": data["title"],
            "intro": data["intro"],
            "half_life_days": data["half_life_days"],
            "segment_weights": {s: data[f"weight_{s}"] for s in Segment.values},
        }


class PublishForm(forms.Form):
    public_title = forms.CharField(max_length=200, label="Public title")
    public_description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Public description"
    )


class PortalSubmitForm(forms.Form):
    text = forms.CharField(
        label="Your idea or problem",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": 5000}),
    )
    email = forms.EmailField(label="Your email", help_text="Never shown; we write when it ships.")
    name = forms.CharField(required=False, max_length=200, label="Your name (optional)")
    # Honeypot: hidden from people by CSS, filled in by bots.
    website = forms.CharField(required=False, label="Leave this empty")


class VoteForm(forms.Form):
    email = forms.EmailField(label="Your email")
