"""Benchmark: sending a week's digests to many subscribers, against plain smtplib.

Not a test: it prints figures. In the configured database it adds a bench week
(the first week of 2001, so no real data falls in it) with a few new, resolved
and coming-due forecasts, and --subscribers confirmed subscribers (one in ten
following one topic only); all of it is removed afterwards. An aiosmtpd sink
runs in a thread of this process on a free local port, and:
  digests  ``digests_send`` for the week: plan, claim, render, send in batches
           over one SMTP connection each, mark every row sent
  floor    plain ``smtplib`` sending the same number of pre-built messages (the
           bytes of a digest the sink received) over one connection
Peak memory is the process's maximum resident set size (ru_maxrss), before and
after the digest run; tracemalloc would slow the run it measures. Times are wall
clock and CPU (the process's, both threads: the sink runs here too); on a busy
machine the CPU ratio is the steadier figure. The URL resolver is built before
timing, as it is in any worker that has run a task before.
"""

from __future__ import annotations

import datetime as dt
import logging
import resource
import smtplib
import sys
import time
import zoneinfo
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models
from django.db.models import QuerySet
from django.test.utils import override_settings
from django.urls import reverse

from forecasts.core.models import Estimate, Forecast, Forecaster, Resolution, Source, Tag
from forecasts.devtools.sink import CountingSink, free_port
from forecasts.digests import periods
from forecasts.digests.models import Subscriber, SubscriberStatus
from forecasts.digests.sending import digests_send

PREFIX = "bench-digest"
DOMAIN = "bench.invalid"
_M = TypeVar("_M", bound=models.Model)


def _ours(model: type[_M]) -> QuerySet[_M]:
    """The rows this benchmark wrote: flagged synthetic, and named by it (the load test's
    synthetic rows are not its to remove)."""
    field = {Source: "key", Subscriber: "email"}.get(model, "slug")
    return model._default_manager.filter(synthetic=True, **{f"{field}__startswith": PREFIX})


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # kilobytes on Linux, bytes on macOS
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Command(BaseCommand):
    help = "Time digests_send for many subscribers against plain smtplib (the floor)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=int, default=10_000)

    def handle(self, *args: Any, subscribers: int, **options: Any) -> None:
        if subscribers < 1:
            raise CommandError("--subscribers must be at least 1.")
        if _ours(Subscriber).exists():
            self._clean()
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        now = dt.datetime(2001, 1, 8, 6, 15, tzinfo=zone)
        week = periods.period_last_ended(now, cadence="weekly", time_zone=settings.TIME_ZONE)
        sink = CountingSink()
        port = free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port)
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: lines per message
        controller.start()
        try:
            self._populate(subscribers, week)
            # A worker that has run any task has its URL resolver built; building it
            # (importing every URLconf, the admin's and the API's) is a one-off ~0.5 s.
            reverse("forecasts:home")
            rss_before = _peak_rss_mb()
            with override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=port,
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
                EMAIL_USE_TLS=False,
                EMAIL_USE_SSL=False,
            ):
                began, began_cpu = time.perf_counter(), time.process_time()
                report = digests_send(now=now, progress=self._progress)
                elapsed = time.perf_counter() - began
                cpu = time.process_time() - began_cpu
            rss_after = _peak_rss_mb()
            if report.sent != subscribers or sink.count != subscribers:
                raise CommandError(
                    f"Expected {subscribers} digests; the run says {report} and the sink "
                    f"received {sink.count}."
                )
            floor, floor_cpu = self._floor(port, sink.last, subscribers)
        finally:
            controller.stop()
            self._clean()
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        self.stdout.write(
            f"bench_digests: {subscribers:,} confirmed subscribers, batches of "
            f"{settings.DIGEST_BATCH_SIZE}, {engine}"
        )
        self.stdout.write(
            f"  digests_send  {elapsed:7.2f} s wall {cpu:7.2f} s CPU  "
            f"{subscribers / elapsed:6.0f} messages/s  "
            f"peak RSS {rss_after:.0f} MB (was {rss_before:.0f} MB before the run)"
        )
        self.stdout.write(
            f"  smtplib floor {floor:7.2f} s wall {floor_cpu:7.2f} s CPU  "
            f"{subscribers / floor:6.0f} messages/s  "
            f"({len(sink.last):,} bytes each, one connection)"
        )
        # The sink runs in this process, so CPU time (both threads) measures the work done
        # and does not move with whatever else the machine is running; wall time does.
        self.stdout.write(
            f"summary: {subscribers / elapsed:.0f} msg/s, {elapsed:.2f} s total, "
            f"peak RSS {rss_after:.0f} MB; ratio to the smtplib floor x{elapsed / floor:.2f} wall, "
            f"x{cpu / floor_cpu:.2f} CPU (target <= 3)"
        )

    def _progress(self, cadence: str, done: int, total: int) -> None:
        self.stdout.write(f"  {cadence}: {done:,}/{total:,} subscribers", ending="\r")
        if done == total:
            self.stdout.write("")

    def _populate(self, count: int, week: periods.Period) -> None:
        source = Source.objects.create(
            key=f"{PREFIX}-source",
            title="Bench source",
            published_on=week.first_day,
            synthetic=True,
        )
        topics = [
            Tag.objects.create(
                name=f"{PREFIX} topic {n}", slug=f"{PREFIX}-topic-{n}", synthetic=True
            )
            for n in range(3)
        ]
        pundits = [
            Forecaster.objects.create(
                name=f"{PREFIX} pundit {n}", slug=f"{PREFIX}-pundit-{n}", synthetic=True
            )
            for n in range(3)
        ]
        inside = week.start + dt.timedelta(days=2)
        for n in range(12):
            # Four of each: published this week, resolved this week, due next week.
            kind = n % 3
            made_on = week.first_day - dt.timedelta(days=60 if kind else 0)
            resolve_by = (
                week.first_day - dt.timedelta(days=1)
                if kind == 1
                else week.last_day + dt.timedelta(days=2 + n % 5)
                if kind == 2
                else week.first_day + dt.timedelta(days=200)
            )
            forecast = Forecast.objects.create(
                synthetic=True,
                slug=f"{PREFIX}-{n}",
                source=source,
                forecaster=pundits[n % 3],
                statement=f"Bench event {n} happens & is <reported>.",
                resolution_criteria="YES if it happens.",
                made_on=made_on,
                resolve_by=resolve_by,
                published_at=inside if kind == 0 else week.start - dt.timedelta(days=60),
            )
            forecast.tags.add(topics[n % 3])
            Estimate.objects.create(
                forecast=forecast, probability=0.1 + 0.07 * n, basis="number", made_on=made_on
            )
            if kind == 1:
                Resolution.objects.create(
                    forecast=forecast,
                    outcome="YES" if n % 2 else "NO",
                    known_on=resolve_by,
                    evidence_url=f"https://news.example.org/{PREFIX}/{n}",
                    resolved_at=inside,
                )
        rows = Subscriber.objects.bulk_create(
            [
                Subscriber(
                    email=f"{PREFIX}-{n}@{DOMAIN}",
                    synthetic=True,
                    status=SubscriberStatus.CONFIRMED,
                    confirmed_at=week.start - dt.timedelta(days=30),
                )
                for n in range(count)
            ],
            batch_size=2_000,
        )
        through = Subscriber.tags.through
        follow = [
            through(subscriber_id=row.pk, tag_id=topics[n % 3].pk)
            for n, row in enumerate(rows)
            if n % 10 == 0
        ]
        through.objects.bulk_create(follow, batch_size=2_000)

    def _floor(self, port: int, message: bytes, count: int) -> tuple[float, float]:
        recipients = [f"{PREFIX}-{n}@{DOMAIN}" for n in range(count)]
        began, began_cpu = time.perf_counter(), time.process_time()
        with smtplib.SMTP("127.0.0.1", port) as client:
            for recipient in recipients:
                client.sendmail("forecasts@example.org", [recipient], message)
        return time.perf_counter() - began, time.process_time() - began_cpu

    def _clean(self) -> None:
        _ours(Subscriber).delete()
        Resolution.objects.filter(forecast__in=_ours(Forecast)).delete()
        _ours(Forecast).delete()
        _ours(Source).delete()
        _ours(Forecaster).delete()
        _ours(Tag).delete()
