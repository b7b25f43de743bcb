from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from forecasts.reviews import services as review_services


class Command(BaseCommand):
    help = (
        "E-mail the reviewers of due forecasts: the prompt, the reminders and the escalation to "
        "the site admins, each step once per person however often this runs (beat runs it "
        "hourly)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(
            f"Review prompts: {review_services.reviews_prompt_due(now=timezone.now())}."
        )
