"""Reading the live scores: a scope's scores back from its stored sums and tally, the
phrase table, and the sums of a period for the filtered leaderboards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from forecasts.core.compiled import CompiledQuery
from forecasts.scores import additive
from forecasts.scores.additive import (
    ALL_TIME,
    ANY_TAG,
    EMPTY_TALLY,
    ScoredForecast,
    Sums,
    Tally,
    month_of,
)
from forecasts.scores.maths import PhraseCalibration, wilson_interval
from forecasts.scores.models import ForecastScore, ScopeKind, ScoreSnapshot, ScoreSum, ScoreTally

Scope = tuple[str, int]


# A score row's columns, in the order :func:`stored_forecasts` reads them.
STORED_FIELDS = (
    "forecast_id",
    "forecaster_id",
    "source_id",
    "tags",
    "probability",
    "phrase",
    "happened",
    "known_on",
    "brier",
    "log_loss",
    "time_averaged_brier",
)


def stored_forecasts(rows: Iterable[Sequence[Any]]) -> dict[int, ScoredForecast]:
    """Score rows, read as :data:`STORED_FIELDS` (as the ORM converts them), by forecast id."""
    return {
        forecast_id: ScoredForecast(
            forecaster_id=forecaster_id,
            source_id=source_id,
            tag_ids=tuple(tags),
            probability=probability,
            phrase=phrase,
            happened=happened,
            known_on=known_on,
            brier=brier,
            log_loss=log_loss,
            time_averaged_brier=time_averaged_brier,
        )
        for (
            forecast_id,
            forecaster_id,
            source_id,
            tags,
            probability,
            phrase,
            happened,
            known_on,
            brier,
            log_loss,
            time_averaged_brier,
        ) in rows
    }


def keys_q(keys: list[dict[str, Any]]) -> Q | None:
    query: Q | None = None
    for key in keys:
        query = Q(**key) if query is None else query | Q(**key)
    return query


def scopes_q(scopes: Iterable[Scope]) -> Q | None:
    by_kind: dict[str, list[int]] = {}
    for kind, scope_id in scopes:
        by_kind.setdefault(kind, []).append(scope_id)
    return keys_q(
        [{"scope_kind": kind, "scope_id__in": sorted(ids)} for kind, ids in sorted(by_kind.items())]
    )


def live_snapshots(
    *,
    as_of: dt.date,
    scopes: Iterable[Scope] | None = None,
    sums: dict[Scope, Sums] | None = None,
) -> list[ScoreSnapshot]:
    """Unsaved snapshots, as of ``as_of``, of the given scopes (every scope with a scored
    forecast when None; everything's always, even with none) from the live sums: a query
    of their tallies, and one of their sums unless ``sums`` holds them all (as they
    stand; a scope left with nothing scored gets no snapshot)."""
    wanted = None if scopes is None else set(scopes)
    by_scope: dict[Scope, Sums] = {}
    if wanted is not None:
        if not wanted:
            return []
        ids_by_kind: dict[str, list[int]] = {}
        for kind, scope_id in wanted:
            ids_by_kind.setdefault(kind, []).append(scope_id)
        tallies = _SCOPE_TALLIES.execute(**ids_by_kind)
        given = sums or {}
        by_scope = {scope: given[scope] for scope in wanted if scope in given}
        missing = scopes_q(wanted - set(given))
        if missing is not None:
            read = ScoreSum.objects.filter(missing, tag_id=ANY_TAG, month=ALL_TIME)
            by_scope.update({(r.scope_kind, r.scope_id): _sums(r) for r in read.order_by()})
    else:
        read = ScoreSum.objects.filter(tag_id=ANY_TAG, month=ALL_TIME)
        by_scope = {(r.scope_kind, r.scope_id): _sums(r) for r in read.order_by()}
        tallies = list(_tallies(ScoreTally.objects.all()))
    by_scope = {scope: total for scope, total in by_scope.items() if total.count > 0}
    rows_by_scope: dict[Scope, list[tuple[Any, ...]]] = {}
    for row in tallies:  # (kind, scope id, probability, phrase, count, yes)
        rows_by_scope.setdefault((row[0], row[1]), []).append(row[2:])
    tally = {scope: Tally.of(rows) for scope, rows in rows_by_scope.items()}
    if wanted is None or (ScopeKind.ALL.value, 0) in wanted:
        by_scope.setdefault((ScopeKind.ALL.value, 0), Sums())
    now = timezone.now()
    return [
        snapshot_from_sums(
            kind,
            scope_id,
            as_of,
            by_scope[(kind, scope_id)],
            tally.get((kind, scope_id), EMPTY_TALLY),
            now,
        )
        for kind, scope_id in sorted(by_scope)
    ]


def _tallies(rows: QuerySet[ScoreTally]) -> QuerySet[Any]:
    columns = ("scope_kind", "scope_id", "probability", "phrase", "resolved_count", "yes_count")
    return rows.filter(resolved_count__gt=0).order_by().values_list(*columns)


def _scope_tallies(**ids_by_kind: list[int]) -> QuerySet[Any]:
    """The tally rows of these scopes (ids by scope kind)."""
    chosen = scopes_q((kind, scope_id) for kind, ids in ids_by_kind.items() for scope_id in ids)
    return _tallies(ScoreTally.objects.filter(chosen))


# A few scopes' tallies (today's snapshots rewritten on a resolution's path), compiled once.
_SCOPE_TALLIES = CompiledQuery(_scope_tallies)


def _sums(row: ScoreSum) -> Sums:
    return Sums(
        row.resolved_count, row.yes_count, row.brier_sum, row.log_loss_sum, row.time_averaged_sum
    )


def snapshot_from_sums(
    kind: str,
    scope_id: int,
    as_of: dt.date,
    sums: Sums,
    tally: Tally,
    computed_at: dt.datetime,
) -> ScoreSnapshot:
    """An unsaved snapshot with a scope's scores from its sums (calibration, the Murphy
    decomposition and, for everything, the phrase table from its tally)."""
    scores = additive.means(sums)
    snapshot = ScoreSnapshot(
        scope_kind=kind,
        scope_id=scope_id,
        as_of=as_of,
        resolved_count=scores.resolved_count,
        yes_count=scores.yes_count,
        brier=scores.brier,
        shrunk_brier=scores.shrunk_brier,
        time_averaged_brier=scores.time_averaged_brier,
        log_loss=scores.log_loss,
        skill_vs_coin=scores.skill_vs_coin,
        skill_vs_base_rate=scores.skill_vs_base_rate,
        computed_at=computed_at,
    )
    if sums.count > 0 and tally:
        snapshot.calibration = [b.to_dict() for b in additive.calibration(tally)]
        snapshot.murphy = additive.murphy(tally).to_dict()
    if kind == ScopeKind.ALL:
        snapshot.phrases = [row.to_dict() for row in phrase_rows(tally)]
    return snapshot


def phrase_rows(tally: Tally) -> list[PhraseCalibration]:
    """The phrase table from a tally: most used phrase first, then alphabetically."""
    counts = additive.phrase_counts(tally)
    rows = []
    for phrase in sorted(counts, key=lambda key: (-counts[key][0], key)):
        count, happened = counts[phrase]
        low, high = wilson_interval(happened, count)
        rows.append(PhraseCalibration(phrase, count, happened, happened / count, low, high))
    return rows


def scope_phrase_table(*, kind: str, scope_id: int) -> list[PhraseCalibration]:
    """A scope's phrase table as it stands now: one query of its tally."""
    rows = ScoreTally.objects.filter(
        scope_kind=kind, scope_id=scope_id, resolved_count__gt=0
    ).exclude(phrase="")
    return phrase_rows(
        Tally.of(
            rows.order_by().values_list("probability", "phrase", "resolved_count", "yes_count")
        )
    )


def scope_probability_count(*, kind: str, scope_id: int) -> int:
    """How many different probabilities a scope's scored forecasts were published at: the
    groups its Murphy decomposition is taken over. One query of its tally."""
    rows = ScoreTally.objects.filter(scope_kind=kind, scope_id=scope_id, resolved_count__gt=0)
    return rows.values("probability").distinct().count()


def period_sums(
    *,
    tag_id: int | None,
    known_from: dt.date | None,
    known_until: dt.date | None,
    today: dt.date,
    kinds: Sequence[str] = tuple(ScopeKind.values),
) -> dict[Scope, Sums]:
    """The sums of every scope of ``kinds`` over the forecasts with ``tag_id`` (any, when
    None) whose outcome became known from ``known_from`` to ``known_until`` (all time
    when both are None).

    Whole months come from the stored monthly sums (a row per scope and month). A month
    the period covers only in part is the month's sums less the score rows of the days
    it leaves out, or the score rows of the days it covers, whichever are fewer days
    (read by ``known_on``). The rows read grow with the number of scopes and months, and
    with a few days' resolutions, not with the number of forecasts.
    """
    tag = tag_id or ANY_TAG
    kinds = list(kinds)
    if known_from is None and known_until is None:
        rows = ScoreSum.objects.filter(
            scope_kind__in=kinds, tag_id=tag, month=ALL_TIME, resolved_count__gt=0
        )
        return {(row.scope_kind, row.scope_id): _sums(row) for row in rows.order_by()}
    start = known_from or dt.date(1, 1, 1)
    end = min(known_until or today, today)
    totals: dict[Scope, Sums] = {}
    if start > end:
        return totals
    # No outcome is known after today: the month holding today is whole up to it.
    if end != today and _month_end(end) != end:
        end_whole = end.replace(day=1) - dt.timedelta(days=1)
        added = [(end_whole + dt.timedelta(days=1), end)]
    else:
        end_whole, added = end, []
    taken: list[tuple[dt.date, dt.date]] = []
    start_whole = start.replace(day=1)
    if start.day > 1:
        left_out = start.day - 1
        covered = (_month_end(start) - start).days + 1
        if left_out <= covered:
            taken.append((start_whole, start - dt.timedelta(days=1)))
        else:
            start_whole = _next_month(start)
            added.append((start, min(_month_end(start), end)))
    if start_whole <= end_whole:
        months = (
            ScoreSum.objects.filter(
                scope_kind__in=kinds,
                tag_id=tag,
                month__gte=month_of(start_whole),
                month__lte=month_of(end_whole),
            )
            .values_list("scope_kind", "scope_id")
            .annotate(
                n=Sum("resolved_count"),
                yes=Sum("yes_count"),
                brier=Sum("brier_sum"),
                log_loss=Sum("log_loss_sum"),
                time_averaged=Sum("time_averaged_sum"),
            )
            .order_by()
        )
        for kind, scope_id, n, yes, brier, log_loss, time_averaged in months:
            totals[(kind, scope_id)] = Sums(
                int(n), int(yes), int(brier), int(log_loss), int(time_averaged)
            )
    else:  # the whole period lies within one month
        added, taken = [(start, end)], []
    for days, sign in ((added, 1), (taken, -1)):
        if days:
            _days_add(totals, days, sign, tag_id=tag_id, kinds=kinds)
    return {scope: sums for scope, sums in totals.items() if sums.count > 0}


def _days_add(
    totals: dict[Scope, Sums],
    days: list[tuple[dt.date, dt.date]],
    sign: int,
    *,
    tag_id: int | None,
    kinds: list[str],
) -> None:
    """Add (``sign`` 1) or take away (-1) the score rows known on these spans of days."""
    spans = Q()
    for first, last in days:
        spans |= Q(known_on__gte=first, known_on__lte=last)
    rows = ForecastScore.objects.filter(spans).order_by()
    for forecaster, source, tags, happened, brier, log_loss, time_averaged in rows.values_list(
        "forecaster_id",
        "source_id",
        "tags",
        "happened",
        "brier",
        "log_loss",
        "time_averaged_brier",
    ):
        if tag_id is not None and tag_id not in tags:
            continue
        sums = Sums(
            sign,
            sign * int(happened),
            sign * additive.fixed(brier),
            sign * additive.fixed(log_loss),
            sign * additive.fixed(time_averaged),
        )
        scopes = [("all", 0), ("forecaster", forecaster), ("source", source)]
        scopes += [("tag", tag) for tag in tags]
        for scope in scopes:
            if scope[0] in kinds:
                totals[scope] = totals.get(scope, Sums()) + sums


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    return _next_month(day) - dt.timedelta(days=1)
