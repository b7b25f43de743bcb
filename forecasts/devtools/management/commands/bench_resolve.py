"""Benchmark: how long a resolution takes to commit, everything the service does included.

Not a test: it prints figures. On the data in place (after ``generate_synthetic`` or
``bench_scores --keep``; the 100,000-forecast database is the one the target is
for) it resolves ``--resolutions`` due, unresolved, published synthetic forecasts,
one at a time, each with :func:`forecasts.core.services.forecast_resolve` in its own
transaction, committed, as the review pages do: a reviewer of the Reviewers group
(``bench-resolve-reviewer``, created on first use and kept; the permission check
reads their groups and permissions afresh each time, as a request would), the
forecast row locked, the resolution validated and saved, the ledger appended to (the
synthetic chain), the live scores updated in the same transaction (the forecast's
score row, its scopes' sums and tallies, today's snapshots of those scopes), and what
runs on commit (the public pages' version), with Django's debug query log off as in
production (``make bench`` runs with ``DEBUG=1``, which would log every statement with
its values written in). Each time runs from the call to the commit's end;
the forecast and the reviewer are read before it, as a view would read them. Before each
resolution a bare commit (a transaction that only takes a transaction id) is timed too,
on PostgreSQL: the floor any durable write pays on this machine at that moment, printed
beside the resolutions, so that a slow run says whether the machine's disk was slow too.

``--statements`` also prints where a resolution's time goes: each SQL statement it runs,
in order, with the median time the client waited for it, and what is left (Python and
the commit): the place to start when the figure moves.

One untimed resolution goes first (it fills Django's caches). The resolutions stay:
they are synthetic rows, removed with the rest by ``generate_synthetic --clear``
(``make bench`` ends with it); each run takes the next due forecasts.
"""

from __future__ import annotations

import statistics
import time
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

from forecasts.core.models import Forecast, Outcome
from forecasts.core.permissions import RESOLVE_PERMISSION, REVIEWERS_GROUP, can_resolve
from forecasts.core.services import forecast_resolve
from forecasts.core.services.reviewers import reviewers_group_join

REVIEWER = "bench-resolve-reviewer"
# Target (issue 15): a resolution's commit, score updates included, at p95.
P95_TARGET_MS = 50
PROGRESS_EVERY = 10


class StatementProfile:
    """An ``execute_wrapper`` that times each statement of each resolution, in order: the
    time the client waits for it, from the call to the rows (the database's work and the
    round trip, and the driver's own Python)."""

    def __init__(self) -> None:
        self._current: list[tuple[str, float]] = []
        self._by_place: dict[tuple[int, str], list[float]] = {}
        self._sql: list[float] = []
        self._totals: list[float] = []
        self._counts: list[int] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self._current.append((" ".join(str(sql).split()), time.perf_counter() - began))

    def resolution_done(self, seconds: float) -> None:
        if not self._current:
            return
        for place, (sql, spent) in enumerate(self._current):
            self._by_place.setdefault((place, sql[:STATEMENT_WIDTH]), []).append(spent)
        self._sql.append(sum(spent for _, spent in self._current))
        self._totals.append(seconds)
        self._counts.append(len(self._current))
        self._current = []

    def lines(self) -> list[str]:
        if not self._totals:
            return []
        total = statistics.median(self._totals) * 1000
        sql = statistics.median(self._sql) * 1000
        lines = [
            f"  where a resolution's time goes (medians over {len(self._totals)}): "
            f"{statistics.median(self._counts):.0f} statements, {sql:.1f} ms waiting for "
            f"them, {total - sql:.1f} ms in Python and the commit, of {total:.1f} ms"
        ]
        for (place, sql_text), spent in sorted(self._by_place.items()):
            lines.append(
                f"    {place + 1:2d}. {statistics.median(spent) * 1000:6.2f} ms  {sql_text}"
            )
        return lines


# How much of each statement's SQL --statements prints.
STATEMENT_WIDTH = 90


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = (
        "Time forecast_resolve, committed, on due synthetic forecasts (p50, p95, max) "
        f"against the {P95_TARGET_MS} ms p95 target."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--resolutions", type=int, default=50, help="resolutions to time (default 50)"
        )
        parser.add_argument(
            "--statements",
            action="store_true",
            help="also print where a resolution's time goes: each SQL statement it runs, "
            "in order, with its median time (as the client waits for it), and the rest "
            "(Python, and the commit)",
        )

    def handle(self, *args: Any, resolutions: int, statements: bool, **options: Any) -> None:
        if resolutions < 1:
            raise CommandError("--resolutions must be at least 1.")
        if connection.in_atomic_block:
            raise CommandError("Run outside a transaction: each resolution must commit.")
        now = timezone.now()
        due = Forecast.objects.filter(synthetic=True).due(at=now)
        pks = list(due.order_by("pk").values_list("pk", flat=True)[: resolutions + 1])
        self.stdout.write(
            f"bench_resolve on {connection.vendor} ({settings.DATABASES['default']['NAME']}): "
            f"{Forecast.objects.count():,} forecasts; {resolutions} resolutions asked for"
            f"{self._server_cache()}"
        )
        if len(pks) < 2:
            raise CommandError(
                f"Too few due, unresolved, published synthetic forecasts ({len(pks)}; one "
                "untimed and at least one timed are needed): run generate_synthetic first "
                "(make bench's bench_scores --keep writes 100,000)."
            )
        if len(pks) <= resolutions:
            self.stdout.write(
                f"  TOO FEW: only {len(pks):,} due, unresolved, published synthetic forecasts; "
                f"timing {len(pks) - 1} resolutions, not {resolutions} "
                "(generate_synthetic --clear, then generate again, for more)."
            )
        reviewer = self._reviewer()
        if not can_resolve(reviewer, Forecast.objects.get(pk=pks[0])):
            raise CommandError(
                f"{REVIEWER} may not resolve: the {REVIEWERS_GROUP} group lacks the "
                f"{RESOLVE_PERMISSION} permission (migration 0004 gives it)."
            )
        self._resolve(pks[0], reviewer, number=0)  # untimed: fills Django's caches
        samples = []
        commits: list[float] = []  # the floor, timed in turn with the resolutions
        timed = pks[1:]
        profile = StatementProfile()
        if settings.DEBUG:
            self.stdout.write(
                "  timed with Django's debug query log off, as in production (DEBUG=1 would "
                "keep each statement's text with its values written in)"
            )
        # (override_settings: the documented way to change a setting for a while.)
        with override_settings(DEBUG=False):
            for number, pk in enumerate(timed, start=1):
                commits += self._bare_commit()
                samples.append(
                    self._resolve(
                        pk, reviewer, number=number, profile=profile if statements else None
                    )
                )
                profile.resolution_done(samples[-1])
                if number % PROGRESS_EVERY == 0 or number == len(timed):
                    self.stderr.write(
                        f"bench_resolve:   {number}/{len(timed)} resolved, "
                        f"last {samples[-1] * 1000:.1f} ms"
                    )
        ordered = sorted(samples)
        p50 = statistics.median(ordered) * 1000
        p95 = _percentile(ordered, 0.95) * 1000
        worst = ordered[-1] * 1000
        verdict = "PASS" if p95 <= P95_TARGET_MS else "MISS"
        floor = ""
        if commits:
            commits.sort()
            floor_p50 = statistics.median(commits) * 1000
            floor_p95 = _percentile(commits, 0.95) * 1000
            self.stdout.write(
                f"  a bare commit, timed in turn: p50 {floor_p50:.2f} ms, p95 {floor_p95:.2f} ms "
                "(what this machine's database takes to make any write durable)"
            )
            floor = f"; a bare commit p95 {floor_p95:.2f} ms"
        else:
            self.stdout.write(f"  a bare commit: not timed on {connection.vendor}")
        if statements:
            for line in profile.lines():
                self.stdout.write(line)
        self.stdout.write(
            f"  forecast_resolve, committed: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
            f"max {worst:.1f} ms over {len(samples)} resolutions"
        )
        self.stdout.write(
            f"bench_resolve summary: p95 {p95:.1f} ms against a target of "
            f"{P95_TARGET_MS} ms: {verdict} ({len(samples)} resolutions, p50 {p50:.1f} ms, "
            f"max {worst:.1f} ms{floor})"
        )

    def _server_cache(self) -> str:
        """PostgreSQL's own cache, which decides whether a resolution's reads wait on the
        disk when the host reclaims its page cache (README, "Speed")."""
        if connection.vendor != "postgresql":
            return ""
        with connection.cursor() as cursor:
            cursor.execute("SHOW shared_buffers")
            (size,) = cursor.fetchone()
        return f"; PostgreSQL shared_buffers {size}"

    def _bare_commit(self) -> list[float]:
        """One transaction that writes nothing of the record yet commits durably (on
        PostgreSQL a transaction id makes its commit record flush the WAL to disk): what
        every committed write pays before any work of its own. A slow disk or a busy
        machine shows here as much as in the resolutions. Nothing on SQLite."""
        if connection.vendor != "postgresql":
            return []
        began = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()")
        return [time.perf_counter() - began]

    def _reviewer(self) -> User:
        """The bench's reviewer: a member of the Reviewers group (through the service)."""
        user, created = User.objects.get_or_create(
            username=REVIEWER, defaults={"email": f"{REVIEWER}@bench.invalid"}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        if not user.is_active:
            raise CommandError(f"The user {REVIEWER} is inactive: activate or remove it.")
        reviewers_group_join(user=user)
        return user

    def _resolve(
        self, pk: int, reviewer: User, *, number: int, profile: StatementProfile | None = None
    ) -> float:
        """Resolve one forecast (read first, as a view would), timing the service only
        (and, with ``profile``, its statements)."""
        forecast = Forecast.objects.get(pk=pk)
        user = User.objects.get(pk=reviewer.pk)  # no permission cache, as in a request
        known_on = max(forecast.made_on, min(forecast.resolve_by, timezone.localdate()))
        with connection.execute_wrapper(profile) if profile else nullcontext():
            began = time.perf_counter()
            forecast_resolve(
                forecast=forecast,
                outcome=Outcome.YES if number % 2 else Outcome.NO,
                known_on=known_on,
                resolved_by=user,
                evidence_url=f"https://bench.invalid/resolutions/{pk}",
                note="Resolved by bench_resolve (synthetic).",
            )
            return time.perf_counter() - began
