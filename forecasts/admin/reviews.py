"""Review prompts: the audit trail of who was prompted when."""

from django.contrib import admin

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
