from django import forms

from .models import SECTIONS, Verdict
from .services import MAX_SECTION
from .services.reviews import MAX_COMMENT

HELP = {
    "problem": "Who has the problem, and what it costs them today.",
    "goals": "What success looks like; link the outcome to the objectives above.",
    "non_goals": "What this spec deliberately leaves out.",
    "requirements": "What must be true when it ships (a list reads best).",
    "acceptance_criteria": "How engineering and QA will know it is done.",
    "open_questions": "What is still undecided, and who decides.",
}


class SpecForm(forms.Form):
    """The spec's sections (Markdown), with the version the editor started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in SECTIONS:
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=MAX_SECTION,
                strip=False,
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text=HELP[name] + " Markdown.",
            )

    def sections(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name, _label in SECTIONS}


class ReviewRequestForm(forms.Form):
    reviewers = forms.MultipleChoiceField(
        choices=(), widget=forms.CheckboxSelectMultiple, help_text="Editors of this workspace"
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].choices = [
            (str(u.pk), u.get_full_name() or u.get_username()) for u in members
        ]


class VerdictForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    verdict = forms.ChoiceField(
        choices=[(Verdict.APPROVED, "Approve"), (Verdict.CHANGES_REQUESTED, "Request changes")],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when you request changes.",
    )
