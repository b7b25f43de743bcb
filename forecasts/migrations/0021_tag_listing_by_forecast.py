"""An index on the tag listing's forecast (0016's table).

The forecasts' triggers (0016) delete and re-insert a forecast's listing rows by its id
whenever it is published or its deadline moves, and look for them on every update of a
forecast row. With no index led by the forecast, PostgreSQL scanned the whole listing:
about 1 ms on each resolution's commit at 100,000 forecasts (found with auto_explain),
and a full read of its 148,000 rows on each extension.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("forecasts", "0020_outcome_stamps_updated_at"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="publishedtaglisting",
            index=models.Index(fields=["forecast_id"], name="tag_listing_by_forecast"),
        ),
    ]
