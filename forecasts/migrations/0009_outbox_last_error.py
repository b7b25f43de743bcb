"""Review prompts and digest deliveries share one outbox (forecasts/mail/): the column
that holds the last sending error is ``last_error`` in both."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0008_synthetic_flag"),
    ]

    operations = [
        migrations.RenameField(
            model_name="digestdelivery",
            old_name="error",
            new_name="last_error",
        ),
    ]
