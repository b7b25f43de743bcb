"""Forms for resolving and extending, shared by the review pages and the admin; and form
fields every form that takes ids from a request uses.

Thin: they collect the values and the evidence; the rules live in the services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connections, models
from django.utils import timezone

from forecasts.core.models import Outcome, Resolution


def known_on_default(*, deadline: dt.date, today: dt.date) -> dt.date:
    """The day a reviewer most likely means when the outcome became known: the deadline
    once it has passed (a 2020 forecast is judged as of its 2020 deadline, not the day the
    reviewer got round to it), today for one resolved early; never a future day."""
    return min(deadline, today)


class ResolveForm(forms.Form):
    """The outcome and its evidence.

    Given the forecast's ``deadline``, "Outcome known on" starts from :func:`known_on_default`,
    and the date picker offers no day after today (the service refuses one).
    """

    outcome = forms.ChoiceField(choices=Outcome.choices, widget=forms.RadioSelect)
    known_on = forms.DateField(
        label="Outcome known on",
        initial=timezone.localdate,
        help_text="The day the outcome became known: the deadline, unless it was known earlier.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    evidence_url = forms.URLField(
        label="Evidence URL", required=False, max_length=500, assume_scheme="https"
    )
    note = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(
        self,
        *args: Any,
        fixed_outcome: str | None = None,
        deadline: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fixed_outcome = fixed_outcome
        today = timezone.localdate()
        known_on = self.fields["known_on"]
        known_on.widget.attrs["max"] = today.isoformat()
        if deadline is not None:
            known_on.initial = known_on_default(deadline=deadline, today=today)
        if fixed_outcome is not None:
            # One-click links carry the outcome; the reviewer only adds evidence.
            del self.fields["outcome"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("evidence_url") and not (data.get("note") or "").strip():
            raise ValidationError("Give the evidence: a URL, a note, or both.")
        return data

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "outcome": self.fixed_outcome or data["outcome"],
            "known_on": data["known_on"],
            "evidence_url": data["evidence_url"],
            "note": data["note"].strip(),
            "correction_reason": data.get("correction_reason", ""),
        }


class CorrectionForm(ResolveForm):
    """Resolving an already resolved forecast: a new resolution that must say why."""

    correction_reason = forms.CharField(
        label="Reason for the correction",
        max_length=2000,
        help_text="The forecast is already resolved; the current resolution stays in the history.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, current: Resolution | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if current is not None:
            # A correction usually changes one thing: start from what stands, so the
            # reviewer edits that rather than retyping the evidence. The reason is theirs.
            self.initial.update(
                {
                    "outcome": current.outcome,
                    "known_on": current.known_on,
                    "evidence_url": current.evidence_url,
                    "note": current.evidence_note,
                }
            )


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


# Service arguments whose form field has another name.
_FORM_FIELD_FOR = {"evidence_note": "note"}


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, if the form has it."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        field = _FORM_FIELD_FOR.get(name, name)
        form.add_error(field if field in form.fields else None, errors)


def key_fits(field: models.Field[Any, Any], value: object) -> bool:
    """Whether ``value`` could be a value of the integer column ``field`` (always True for
    other columns). Submitted ids are looked up as they come: SQLite raises OverflowError
    on an integer wider than 64 bits instead of matching nothing, a 500 for a typo."""
    if not isinstance(field, models.IntegerField):
        return True
    try:
        number = int(str(value).strip())
    except ValueError:
        return True  # not a number at all: Django's own check refuses it cleanly
    low, high = connections["default"].ops.integer_field_range(field.get_internal_type())
    return low <= number <= high


def _key_field(field: forms.ModelChoiceField) -> models.Field[Any, Any]:  # type: ignore[type-arg]
    meta = field.queryset.model._meta  # type: ignore[union-attr]
    key = meta.get_field(field.to_field_name) if field.to_field_name else meta.pk
    assert isinstance(key, models.Field)
    return key


class KeyCheckedChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A ModelChoiceField that refuses an id the database cannot hold as "not one of the
    choices", instead of letting the lookup fail with a server error."""

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values and not key_fits(_key_field(self), value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Re-shown forms look the submitted id up again (the admin's autocomplete does).
        if data not in self.empty_values and not key_fits(_key_field(self), data):
            return None
        return super().bound_data(data, initial)


class KeyCheckedMultipleChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """The same for several ids (tags, forecasters)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not key_fits(_key_field(self), pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]  # private, not in the stubs

    def bound_data(self, data: Any, initial: Any) -> Any:
        if isinstance(data, list | tuple):
            data = [pk for pk in data if key_fits(_key_field(self), pk)]
        return super().bound_data(data, initial)
