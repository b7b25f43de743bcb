"""Forms of the digest pages (and the admin's subscriber form's address check)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from forecasts.core.forms import KeyCheckedMultipleChoiceField
from forecasts.core.models import Forecaster, Tag
from forecasts.digests.models import Cadence


class DigestPreferencesForm(forms.Form):
    """How often, and optionally only some topics or forecasters."""

    cadence = forms.ChoiceField(
        label="How often", choices=Cadence.choices, initial=Cadence.WEEKLY, widget=forms.RadioSelect
    )
    tags = KeyCheckedMultipleChoiceField(
        label="Only these topics",
        queryset=Tag.objects.filter(forecasts__published_at__isnull=False).distinct(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave every topic and forecaster unticked for everything.",
    )
    forecasters = KeyCheckedMultipleChoiceField(
        label="Only these forecasters",
        queryset=Forecaster.objects.filter(forecasts__published_at__isnull=False).distinct(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def mailable_address(address: str) -> str:
    """The address lower-cased, if mail can be addressed to it as written.

    Django's EmailField accepts domains that cannot be encoded for SMTP (U+FFFD) or
    that IDNA quietly rewrites (a zero-width space vanishes, so "a@b.org\u200b" is
    stored as a second subscriber while the mail goes to a@b.org).
    """
    address = address.strip().lower()
    domain = address.rpartition("@")[2]
    try:
        round_trip = domain.encode("idna").decode("idna")
    except UnicodeError:  # not encodable, or an "xn--" label that is not punycode
        round_trip = ""
    if round_trip != domain:
        raise ValidationError(
            "This address has characters mail cannot be sent to; check the part after the @.",
            code="invalid",
        )
    return address


class SubscribeForm(DigestPreferencesForm):
    email = forms.EmailField(label="Your e-mail address", max_length=254)
    field_order = ["email", "cadence", "tags", "forecasters"]

    def clean_email(self) -> str:
        return mailable_address(self.cleaned_data["email"])


class StaffDigestForm(forms.Form):
    cadence = forms.ChoiceField(
        label="How often", choices=Cadence.choices, initial=Cadence.WEEKLY, widget=forms.RadioSelect
    )
    include_review_queue = forms.BooleanField(
        label="Add my overdue review queue", required=False, initial=True
    )
