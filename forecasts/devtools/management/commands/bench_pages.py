"""Benchmark: server time of the public pages, uncached and cached, against a floor.

Not a test: it prints figures. It requests each page in-process through Django's
test client (no network, the full middleware stack) on whatever data the
configured database holds — run it after ``bench_scores --keep`` or
``generate_synthetic`` — and reports p50 and p95 per page:
  uncached  the page cache invalidated before every request (charts, cached per
            snapshot, stay cached: they are redrawn once per new snapshot)
  cached    the page served from the cache (a second view)
  floor     /healthz, a minimal view that reads one row
The CSV export is streamed and never stored in the cache, so its two figures
are both the cost of building it; a whole export is timed only a few times.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test import Client
from django.urls import reverse

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Forecast, Forecaster

# The partial export: forecasts due by this date (about 5 % of the synthetic data).
PART_EXPORT_BEFORE = "2016-06-30"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


class Command(BaseCommand):
    help = "Time the public pages (uncached and cached) against a one-row floor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=20, help="requests per page and mode")

    def handle(self, *args: Any, requests: int, **options: Any) -> None:
        if requests < 2:
            raise CommandError("--requests must be at least 2.")
        forecaster = Forecaster.objects.filter(forecasts__published_at__isnull=False).first()
        forecast = Forecast.objects.published().order_by("-pk").first()
        if forecaster is None or forecast is None:
            raise CommandError("No published forecasts: generate data first (make bench does).")
        published = Forecast.objects.published()
        some = published.filter(resolve_by__lte=PART_EXPORT_BEFORE).count()
        pages = {
            "/": ("/", requests),
            "/ filtered (last 12 months)": ("/?period=12m", requests),
            "forecaster page": (
                reverse("forecasts:forecaster", args=[forecaster.slug]),
                requests,
            ),
            "forecast page": (forecast.get_absolute_url(), requests),
            "/api/forecasts": ("/api/forecasts", requests),
            f"CSV export ({some:,} rows)": (
                f"/export/forecasts.csv?resolve_by_before={PART_EXPORT_BEFORE}",
                requests,
            ),
            # A whole export is one long download: timed a few times only.
            f"CSV export (all {published.count():,} rows)": (
                "/export/forecasts.csv",
                min(requests, 3),
            ),
        }
        client = Client(HTTP_HOST="127.0.0.1")
        floor = self._time(client, "/healthz", requests, clear=False)
        floor_p50, floor_p95 = _percentiles(floor)
        self.stdout.write(
            f"bench_pages: {Forecast.objects.count():,} forecasts, {requests} requests each; "
            f"floor /healthz p50 {floor_p50 * 1000:.1f} ms, p95 {floor_p95 * 1000:.1f} ms"
        )
        summary = []
        for name, (url, count) in pages.items():
            uncached = _percentiles(self._time(client, url, count, clear=True))
            cached = _percentiles(self._time(client, url, count, clear=False))
            self.stdout.write(
                f"  {name:34} uncached p50 {uncached[0] * 1000:7.1f} ms p95 "
                f"{uncached[1] * 1000:7.1f} ms (x{uncached[0] / floor_p50:5.1f} floor) | "
                f"cached p50 "
                f"{cached[0] * 1000:6.1f} ms p95 {cached[1] * 1000:6.1f} ms "
                f"(x{cached[0] / floor_p50:4.1f})"
            )
            summary.append(f"{name} {uncached[0] * 1000:.0f}/{cached[0] * 1000:.0f} ms")
        self.stdout.write("summary (p50 uncached/cached): " + "; ".join(summary))

    def _time(self, client: Client, url: str, count: int, *, clear: bool) -> list[float]:
        samples = []
        for _ in range(count):
            if clear:
                public_pages_changed()  # the page cache misses; charts stay cached
            began = time.perf_counter()
            response = client.get(url)
            if response.streaming:
                for _chunk in response.streaming_content:  # type: ignore[attr-defined]
                    pass
            samples.append(time.perf_counter() - began)
            if response.status_code != 200:
                raise CommandError(f"{url} answered {response.status_code}.")
        return samples
