from django import forms


class ImportForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="The new workspace's name; empty: the name in the archive.",
    )
    file = forms.FileField(label="Archive (.zip)")
