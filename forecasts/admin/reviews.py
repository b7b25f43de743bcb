"""Review prompts: the audit trail of who was prompted when."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from forecasts.admin.forecast_inlines import may_see_addresses
from forecasts.admin.site import ReadOnlyAdmin
from forecasts.reviews.models import ReviewPrompt


@admin.register(ReviewPrompt)
class ReviewPromptAdmin(ReadOnlyAdmin[ReviewPrompt]):
    list_display = (
        "forecast",
        "step",
        "recipient",
        "deadline",
        "claimed_at",
        "sent_at",
        "attempts",
    )
    list_filter = (
        "step",
        ("sent_at", admin.EmptyFieldListFilter),
        "claimed_at",
        ("user", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("forecast__statement", "recipient", "last_error")
    list_select_related = ("forecast",)
    date_hierarchy = "claimed_at"

    # The recipient is a person's e-mail address: for those who may see the users.
    def get_list_display(self, request: HttpRequest) -> list[Any]:
        shown = list(super().get_list_display(request))
        return shown if may_see_addresses(request) else [f for f in shown if f != "recipient"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        fields = list(super().get_search_fields(request))
        return fields if may_see_addresses(request) else [f for f in fields if f != "recipient"]

    def get_fields(self, request: HttpRequest, obj: ReviewPrompt | None = None) -> list[Any]:
        fields = list(super().get_fields(request, obj))
        return fields if may_see_addresses(request) else [f for f in fields if f != "recipient"]
