"""Forms for the review pages: thin, the rules live in the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone

from forecasts.models import Outcome


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=Outcome.choices, widget=forms.RadioSelect)
    known_on = forms.DateField(
        label="Outcome known on",
        help_text="The day the outcome became known (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    evidence_url = forms.URLField(
        label="Evidence URL", required=False, max_length=500, assume_scheme="https"
    )
    note = forms.CharField(
        label="Note", required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    correction_reason = forms.CharField(
        label="Reason for the correction",
        required=False,
        max_length=2000,
        help_text="Only when correcting an earlier resolution.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, fixed_outcome: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["known_on"].initial = timezone.localdate()
        if fixed_outcome is not None:
            # One-click links carry the outcome; the reviewer only adds evidence.
            self.fields["outcome"].initial = fixed_outcome
            self.fields["outcome"].widget = forms.HiddenInput()
            del self.fields["correction_reason"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("evidence_url") and not (data.get("note") or "").strip():
            raise forms.ValidationError("Give the evidence: a URL, a note, or both.")
        return data


class ExtendForm(forms.Form):
    new_resolve_by = forms.DateField(
        label="New deadline", widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        label="Why is the outcome not yet knowable?",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, current: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if current is not None:
            self.fields["new_resolve_by"].initial = current + dt.timedelta(days=90)
