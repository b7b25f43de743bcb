"""Benchmark: the cost of a score snapshot against the floor of just reading its data.

Not a test: it prints figures. For each size it generates synthetic data (in the
configured database, marked "synthetic-" and removed afterwards unless --keep),
then times, best of --repeat runs:
  floor     fetching the rows a snapshot needs, and nothing else
  snapshot  the whole service: read, score every scope, replace the date's rows
and the peak memory traced during one snapshot.
"""

import datetime as dt
import gc
import resource
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from forecasts.devtools import synthetic
from forecasts.scores import services as score_services
from forecasts.scores.rows import score_rows_fetch_only


def _best(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return min(times)


class Command(BaseCommand):
    help = "Time scores_snapshot against the floor of reading its columns, at several data sizes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sizes", default="10000,100000", help="forecast counts, comma-separated"
        )
        parser.add_argument("--estimates-per-forecast", type=int, default=10)
        parser.add_argument("--forecasters", type=int, default=200)
        parser.add_argument("--sources", type=int, default=500)
        parser.add_argument("--tags", type=int, default=50)
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument(
            "--keep", action="store_true", help="leave the largest data set in place"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sizes = [int(size) for size in options["sizes"].split(",")]
        except ValueError:
            raise CommandError(
                f"--sizes {options['sizes']!r} must be whole numbers, comma-separated."
            ) from None
        if any(size < 1 for size in sizes) or options["repeat"] < 1:
            raise CommandError("--sizes and --repeat must be positive.")
        vendor = connection.vendor
        self.stdout.write(
            f"bench_scores on {vendor} ({settings.DATABASES['default']['NAME']}), "
            f"{options['estimates_per_forecast']} estimates per forecast, "
            f"{options['forecasters']} forecasters, {options['sources']} sources, "
            f"{options['tags']} tags"
        )
        today = timezone.localdate()
        results = []
        for size in sizes:
            results.append(self._measure(size, today, options))
        if not options["keep"]:
            synthetic.synthetic_clear()
            # Today's snapshots counted the synthetic forecasts: recompute them from real data.
            score_services.scores_snapshot(as_of=today)
        self.stdout.write(
            "summary: "
            + "; ".join(
                f"{r['size']:,} forecasts: snapshot {r['snapshot']:.2f} s, "
                f"floor {r['floor']:.2f} s, "
                f"ratio {r['ratio']:.2f}, peak {r['peak_mb']:.0f} MB"
                for r in results
            )
        )

    def _measure(self, size: int, today: dt.date, options: dict[str, Any]) -> dict[str, float]:
        self.stderr.write(f"bench_scores: generating {size:,} forecasts…")
        synthetic.synthetic_clear()
        generated = synthetic.synthetic_generate(
            forecasts=size,
            estimates=size * options["estimates_per_forecast"],
            forecasters=options["forecasters"],
            sources=options["sources"],
            tags=options["tags"],
            progress=self._progress,
        )
        self.stderr.write(f"bench_scores: {generated}")
        repeat = options["repeat"]
        floor = _best(repeat, lambda: score_rows_fetch_only(as_of=today))
        snapshot = _best(repeat, lambda: score_services.scores_snapshot(as_of=today))
        gc.collect()
        tracemalloc.start()
        report = score_services.scores_snapshot(as_of=today)
        _, traced = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result = {
            "size": size,
            "floor": floor,
            "snapshot": snapshot,
            "ratio": snapshot / floor,
            "peak_mb": self._snapshot_process_peak_mb(today),
        }
        self.stdout.write(
            f"{size:>9,} forecasts ({report.resolved:,} scored, {report.scopes} scopes): "
            f"floor {floor:.3f} s, snapshot {snapshot:.3f} s, ratio {result['ratio']:.2f}, "
            f"peak memory of a snapshot process {result['peak_mb']:.0f} MB "
            f"(of which traced Python/numpy allocations {traced / 2**20:.0f} MB)"
        )
        return result

    def _snapshot_process_peak_mb(self, today: dt.date) -> float:
        """Peak RSS of a fresh process that runs one snapshot (interpreter and Django included)."""
        subprocess.run(  # noqa: S603 - a fixed command line, no outside input
            [sys.executable, "manage.py", "snapshot_scores", "--date", today.isoformat()],
            cwd=settings.BASE_DIR,
            check=True,
            capture_output=True,
        )
        return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    def _progress(self, done: int, total: int) -> None:
        fifth = done * 5 // max(total, 1)
        if fifth != getattr(self, "_last_fifth", None):
            self._last_fifth = fifth
            self.stderr.write(f"bench_scores:   {done:,}/{total:,} forecasts generated")
