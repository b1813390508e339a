from django import forms
from django.contrib.auth.forms import UserCreationForm

from .models import ApiToken, Role, User


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; used for notifications later.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ["username", "email"]


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autofocus": True}))


class InviteForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)
    note = forms.CharField(
        max_length=200,
        required=False,
        label="For",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Dana from Sales"}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class ApiTokenForm(forms.ModelForm):
    expires_at = forms.DateTimeField(
        required=False,
        label="Expires",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Optional. Leave empty for a token that lasts until revoked.",
    )

    class Meta:
        model = ApiToken
        fields = ["name", "read_only", "expires_at"]
        labels = {"read_only": "Read-only"}
        help_texts = {"read_only": "Can read everything you can read, and change nothing."}
