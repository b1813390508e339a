from django import forms

from .services.answers import MAX_ANSWER


class AnswerForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    answer = forms.CharField(
        max_length=MAX_ANSWER,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Emailed to the asker and everyone who +1'd the question.",
    )
