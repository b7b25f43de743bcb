"""Benchmark: server time of the public pages, uncached and cached, against a floor.

Not a test: it prints figures. It requests each page in-process through Django's
test client (no network, the full middleware stack) on whatever data the
configured database holds — run it after ``bench_scores --keep`` or
``generate_synthetic`` — and reports p50 and p95 per page:
  uncached  the page cache invalidated before every request (charts, cached per
            snapshot, stay cached: they are redrawn once per new snapshot)
  cached    the page served from the cache (a second view)
  floor     /healthz, a minimal view that reads one row, timed in the same run
Each page's uncached p50 is printed as a multiple of the floor's p50 beside its
target (issue 15), with PASS or MISS. The floor each page is set against is timed in
turn with that page's own uncached requests (one /healthz, one page, and so on), so
that a machine whose speed drifts during the run (a shared or throttled one: the floor
was seen to double from one minute to the next) slows both sides of the ratio alike;
the first line's floor is the start of the run's. (Timed in turn, the floor can read a
little higher than timed alone, 3.6–4.8 ms against 3.2 ms in one run here: a page
leaves the CPU's caches cold for it.) Each page line also gives the number of queries one uncached
request ran (``CaptureQueriesContext``, on a request before the timed ones, which also
warms the page up), so that growth with the data shows.

The CSV export is streamed and never stored in the cache, so its two figures are
both the cost of building it; a whole export is timed only a few times. On
PostgreSQL the whole export is also set against a bare ``COPY (SELECT …) TO
STDOUT`` of the same rows and columns (the export's query with nothing added: no
guard, rounding, Brier or page URL, no response), read to the end in this process
the same way; the two are timed in turn so that a busy machine slows both.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forecasts.core.changes import public_pages_changed
from forecasts.core.models import Forecast, Forecaster, Source, Tag
from forecasts.web import exports
from forecasts.web.filters import ForecastFilters

# The partial export: forecasts due by this date (about 5 % of the synthetic data).
PART_EXPORT_BEFORE = "2016-06-30"
# Targets (issue 15): an uncached page's p50 as a multiple of the floor's p50.
HOME_TARGET = 20
FILTERED_BOARD_TARGET = 40
PAGE_TARGET = 10
# The whole CSV export as a multiple of the bare COPY of the same rows.
CSV_COPY_TARGET = 3
# The floor is cheap and every ratio divides by it: always time it this many times.
FLOOR_REQUESTS = 20


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def _verdict(ratio: float, target: float) -> str:
    return "PASS" if ratio <= target else "MISS"


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    requests: int
    target: float | None = None  # × the floor; None: timed, no target


class Command(BaseCommand):
    help = (
        "Time the public pages (uncached and cached) against the /healthz floor and their "
        "targets, and the whole CSV export against a bare COPY of the same rows."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requests", type=int, default=20, help="requests per page and mode")

    def handle(self, *args: Any, requests: int, **options: Any) -> None:
        if requests < 2:
            raise CommandError("--requests must be at least 2.")
        published = Forecast.objects.published()
        forecaster = Forecaster.objects.filter(forecasts__published_at__isnull=False).first()
        source = Source.objects.filter(forecasts__published_at__isnull=False).first()
        tag = Tag.objects.filter(forecasts__published_at__isnull=False).order_by("slug").first()
        forecast = published.order_by("-pk").first()
        if forecaster is None or source is None or forecast is None:
            raise CommandError("No published forecasts: generate data first (make bench does).")
        if tag is None:
            raise CommandError("No published forecast has a tag: generate data first.")
        some = published.filter(resolve_by__lte=PART_EXPORT_BEFORE).count()
        total = published.count()
        pages = [
            Page("/", "/", requests, HOME_TARGET),
            Page("/?period=12m", "/?period=12m", requests, FILTERED_BOARD_TARGET),
            Page(f"/?tag={tag.slug}", f"/?tag={tag.slug}", requests, FILTERED_BOARD_TARGET),
            Page(
                "forecaster page",
                reverse("forecasts:forecaster", args=[forecaster.slug]),
                requests,
                PAGE_TARGET,
            ),
            Page(
                "source page", reverse("forecasts:source", args=[source.key]), requests, PAGE_TARGET
            ),
            Page("tag page", reverse("forecasts:tag", args=[tag.slug]), requests, PAGE_TARGET),
            Page("forecast page", forecast.get_absolute_url(), requests, PAGE_TARGET),
            Page("/api/forecasts", "/api/forecasts", requests, PAGE_TARGET),
            Page(
                f"CSV export ({some:,} rows)",
                f"/export/forecasts.csv?resolve_by_before={PART_EXPORT_BEFORE}",
                requests,
            ),
        ]
        client = Client(HTTP_HOST="127.0.0.1")
        self._time(client, "/healthz", 2, clear=False)  # the first request builds the URL resolver
        floor_p50, floor_p95 = _percentiles(
            self._time(client, "/healthz", max(requests, FLOOR_REQUESTS), clear=False)
        )
        self.stdout.write(
            f"bench_pages on {connection.vendor}: {Forecast.objects.count():,} forecasts, "
            f"{requests} requests each; floor /healthz p50 {floor_p50 * 1000:.1f} ms, "
            f"p95 {floor_p95 * 1000:.1f} ms ({max(requests, FLOOR_REQUESTS)} requests)"
        )
        passed: list[str] = []
        missed: list[str] = []
        for page in pages:
            queries = self._count_queries(client, page.url)
            beside: list[float] = []  # the floor, timed in turn with this page
            samples: list[float] = []
            for _ in range(page.requests):
                beside += self._time(client, "/healthz", 1, clear=False)
                samples += self._time(client, page.url, 1, clear=True)
            uncached = _percentiles(samples)
            cached = _percentiles(self._time(client, page.url, page.requests, clear=False))
            page_floor = statistics.median(beside)
            ratio = uncached[0] / page_floor
            if page.target is None:
                verdict = "(no target)"
            else:
                verdict = f"target x{page.target:g} {_verdict(ratio, page.target)}"
                (passed if ratio <= page.target else missed).append(f"{page.name} x{ratio:.0f}")
            self.stdout.write(
                f"  {page.name:38} uncached p50 {uncached[0] * 1000:7.1f} ms p95 "
                f"{uncached[1] * 1000:7.1f} ms = x{ratio:.1f} floor ({page_floor * 1000:.1f} ms "
                f"in turn), {verdict:15} | "
                f"cached p50 {cached[0] * 1000:6.1f} ms p95 {cached[1] * 1000:6.1f} ms | "
                f"{queries} queries"
            )
        csv_line = self._whole_export(client, total, min(requests, 3))
        self.stdout.write(
            f"bench_pages summary: {len(passed)}/{len(passed) + len(missed)} pages within target"
            + (f" (missed: {', '.join(missed)})" if missed else "")
            + f"; {csv_line}; floor {floor_p50 * 1000:.1f} ms"
        )

    def _whole_export(self, client: Client, total: int, count: int) -> str:
        """Time the whole export (and on PostgreSQL the bare COPY, in turn); the summary's
        part about it."""
        url = "/export/forecasts.csv"
        name = f"CSV export (all {total:,} rows)"
        queries = self._count_queries(client, url)
        if not exports.copy_available():
            python = _percentiles(self._time(client, url, count, clear=True))[0]
            self.stdout.write(
                f"  {name:38} p50 {python:.2f} s, {total / python:,.0f} rows/s | {queries} queries"
            )
            self.stdout.write(
                f"  CSV against a bare COPY: does not apply on {connection.vendor} "
                "(the export is written by Python here; COPY is PostgreSQL's)"
            )
            return f"CSV {python:.2f} s (no COPY comparison on {connection.vendor})"
        export_samples: list[float] = []
        bare_samples: list[float] = []
        for _ in range(count):
            bare_samples.append(self._bare_copy())
            export_samples += self._time(client, url, 1, clear=True)
        export, bare = _percentiles(export_samples)[0], _percentiles(bare_samples)[0]
        ratio = export / bare
        verdict = _verdict(ratio, CSV_COPY_TARGET)
        self.stdout.write(
            f"  {name:38} p50 {export:.2f} s, {total / export:,.0f} rows/s | {queries} queries"
        )
        self.stdout.write(
            f"  {'bare COPY of the same rows':38} p50 {bare:.2f} s, {total / bare:,.0f} rows/s"
        )
        self.stdout.write(
            f"  {'CSV export / bare COPY':38} x{ratio:.2f}, target x{CSV_COPY_TARGET} {verdict}"
        )
        return f"CSV x{ratio:.2f} bare COPY {verdict}"

    def _bare_copy(self) -> float:
        sql, params = exports.export_copy_sql(
            at=timezone.now(), filters=ForecastFilters.model_validate({}), bare=True
        )
        began = time.perf_counter()
        with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
            for _data in copy:
                pass
        return time.perf_counter() - began

    def _count_queries(self, client: Client, url: str) -> int:
        """The queries one uncached request of ``url`` runs (this request is not timed)."""
        public_pages_changed()
        with CaptureQueriesContext(connection) as queries:
            self._get(client, url)
        return len(queries.captured_queries)

    def _time(self, client: Client, url: str, count: int, *, clear: bool) -> list[float]:
        samples = []
        for _ in range(count):
            if clear:
                public_pages_changed()  # the page cache misses; charts stay cached
            began = time.perf_counter()
            self._get(client, url)
            samples.append(time.perf_counter() - began)
        return samples

    def _get(self, client: Client, url: str) -> None:
        response = client.get(url)
        if response.streaming:
            for _chunk in response.streaming_content:  # type: ignore[attr-defined]
                pass
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}.")
