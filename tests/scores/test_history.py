"""Score history as it was known: a snapshot as of D uses what was on record by the end of D.

Rows are written with explicit recording times (``resolved_at``, ``created_at``) and every
snapshot is checked against :func:`as_recorded`, a plain per-forecast computation.
"""

import datetime as dt
import itertools
import random

import pytest
from django.core.management import call_command
from django.db import transaction

from forecasts.core.permits import Permit, write_permit
from forecasts.models import Estimate, Forecast, Resolution, ScopeKind, ScoreSnapshot
from forecasts.scores import services as score_services
from tests.factories import EstimateFactory, ForecasterFactory, ForecastFactory, ResolutionFactory

pytestmark = pytest.mark.django_db

UNTIL = dt.date(2024, 8, 1)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(dt.datetime(2024, 8, 1, 18, tzinfo=dt.UTC))


def at(day, hour=12):
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def forecast(forecaster=None, *, made_on=dt.date(2024, 1, 10), probability=0.2, **fields):
    """A forecast with one estimate, recorded the day it was made."""
    made = ForecastFactory(
        estimate=None,
        made_on=made_on,
        resolve_by=dt.date(2024, 12, 31),
        **({"forecaster": forecaster} if forecaster else {}),
        **fields,
    )
    estimate(made, probability=probability, made_on=made_on)
    return made


def estimate(forecast, *, probability, made_on, recorded=None, historical=False):
    return EstimateFactory(
        forecast=forecast,
        probability=probability,
        made_on=made_on,
        created_at=at(recorded or made_on),
        historical=historical,
    )


def resolve(forecast, outcome, *, known_on, recorded, hour=12):
    """Resolve, or correct the current resolution, as recorded at ``recorded``."""
    previous = forecast.resolutions.filter(is_current=True).first()
    if previous is not None:  # the one change the database lets a correction make
        with transaction.atomic(), write_permit(forecast.pk, Permit.CORRECT):
            Resolution.objects.filter(pk=previous.pk).update(is_current=False)
    return ResolutionFactory(
        forecast=forecast,
        outcome=outcome,
        known_on=known_on,
        resolved_at=at(recorded, hour),
        supersedes=previous,
        correction_reason="Corrected." if previous else "",
    )


def as_recorded(day):
    """Independently: {forecaster id: (count, yes, sum of Brier)} and the overall tuple,
    from the resolutions and estimates on record by the end of ``day``."""
    from django.utils import timezone

    end = dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(), tzinfo=timezone.get_current_timezone()
    )
    by_forecaster = {}
    for each in Forecast.objects.filter(published_at__isnull=False):
        on_record = [r for r in each.resolutions.all() if r.resolved_at < end]
        if not on_record:
            continue
        standing = max(on_record, key=lambda r: (r.resolved_at, r.pk))
        if standing.outcome == "ANNULLED" or standing.known_on > day:
            continue
        estimates = [
            e
            for e in Estimate.objects.filter(forecast=each).recorded_by(day)
            if e.made_on < standing.known_on
        ]
        if not estimates:
            continue
        first = min(estimates, key=lambda e: (e.made_on, e.pk))
        outcome = 1 if standing.outcome == "YES" else 0
        count, yes, total = by_forecaster.get(each.forecaster_id, (0, 0, 0.0))
        by_forecaster[each.forecaster_id] = (
            count + 1,
            yes + outcome,
            total + (first.probability - outcome) ** 2,
        )
    overall = tuple(sum(values) for values in zip(*by_forecaster.values(), strict=True))
    return by_forecaster, overall or (0, 0, 0.0)


def assert_matches_the_record(day):
    by_forecaster, (count, yes, total) = as_recorded(day)
    snapshots = {(s.scope_kind, s.scope_id): s for s in ScoreSnapshot.objects.filter(as_of=day)}
    overall = snapshots[(ScopeKind.ALL, 0)]
    assert (overall.resolved_count, overall.yes_count) == (count, yes), day
    if count:
        assert overall.brier == pytest.approx(total / count, abs=1e-12), day
    stored = {
        scope_id: (s.resolved_count, s.yes_count)
        for (kind, scope_id), s in snapshots.items()
        if kind == ScopeKind.FORECASTER
    }
    assert stored == {k: (n, y) for k, (n, y, _) in by_forecaster.items()}, day


def overall_counts():
    return dict(
        ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL)
        .order_by("as_of")
        .values_list("as_of", "resolved_count")
    )


def test_a_yes_corrected_to_no_is_yes_until_the_correction_was_recorded():
    made = forecast(probability=0.2)
    resolve(made, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 1))
    resolve(made, "NO", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 5, 1))
    for day, yes in [
        (dt.date(2024, 1, 31), None),
        (dt.date(2024, 2, 1), 1),
        (dt.date(2024, 4, 30), 1),
        (dt.date(2024, 5, 1), 0),
    ]:
        score_services.scores_snapshot(as_of=day)
        overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=day)
        if yes is None:
            assert overall.resolved_count == 0
        else:
            assert (overall.resolved_count, overall.yes_count) == (1, yes)
            assert overall.brier == pytest.approx((0.2 - yes) ** 2)
    score_services.scores_backfill(until=UNTIL)
    overall = ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL)
    counts = dict(overall.values_list("as_of", "yes_count"))
    assert {yes for day, yes in counts.items() if day < dt.date(2024, 5, 1)} == {1}
    assert {yes for day, yes in counts.items() if day >= dt.date(2024, 5, 1)} == {0}


def test_a_corrected_forecast_stays_counted_between_its_resolution_and_correction():
    person = ForecasterFactory()
    corrected = forecast(person, probability=0.7)
    for other in (forecast(person), forecast(person)):
        resolve(other, "NO", known_on=dt.date(2024, 1, 20), recorded=dt.date(2024, 1, 22))
    resolve(corrected, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 1))
    # The correction also says the outcome became known later than first reported.
    resolve(corrected, "NO", known_on=dt.date(2024, 4, 20), recorded=dt.date(2024, 5, 1))
    score_services.scores_backfill(until=UNTIL)
    history = dict(
        ScoreSnapshot.objects.filter(scope_kind=ScopeKind.FORECASTER, scope_id=person.pk)
        .order_by("as_of")
        .values_list("as_of", "resolved_count")
    )
    assert history[dt.date(2024, 1, 22)] == 2
    assert {n for day, n in history.items() if day >= dt.date(2024, 2, 1)} == {3}
    for day in history:
        assert_matches_the_record(day)


def test_an_estimate_recorded_after_the_date_is_not_in_its_snapshot():
    made = forecast(probability=0.2)
    # Recorded on 10 March, dated earlier (a back-dated row from before the ledger).
    estimate(made, probability=0.9, made_on=dt.date(2024, 1, 20), recorded=dt.date(2024, 3, 10))
    resolve(made, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 1))
    late = ForecastFactory(estimate=None, made_on=dt.date(2024, 1, 10))
    estimate(late, probability=0.6, made_on=dt.date(2024, 1, 10), recorded=dt.date(2024, 3, 10))
    resolve(late, "NO", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 1))

    score_services.scores_snapshot(as_of=dt.date(2024, 3, 9))
    score_services.scores_snapshot(as_of=dt.date(2024, 3, 10))
    before = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=dt.date(2024, 3, 9))
    after = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=dt.date(2024, 3, 10))
    assert before.resolved_count == 1  # the late forecast had no estimate on record
    assert before.time_averaged_brier == pytest.approx(0.64)  # 20 % every day
    assert after.resolved_count == 2
    # 20 % from 10 to 20 January, 90 % from 20 January to 1 February, YES.
    made_average = (10 * 0.64 + 12 * 0.01) / 22
    assert after.time_averaged_brier == pytest.approx((made_average + 0.36) / 2)
    score_services.scores_backfill(until=UNTIL)
    for day in overall_counts():
        assert_matches_the_record(day)


def test_a_historical_estimate_counts_from_the_day_it_was_made():
    made = ForecastFactory(estimate=None, made_on=dt.date(2024, 1, 10))
    # Imported on 1 August, standing for what the source published on 10 January.
    estimate(
        made,
        probability=0.3,
        made_on=dt.date(2024, 1, 10),
        recorded=dt.date(2024, 8, 1),
        historical=True,
    )
    resolve(made, "NO", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 3))
    score_services.scores_snapshot(as_of=dt.date(2024, 2, 3))
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=dt.date(2024, 2, 3))
    assert (overall.resolved_count, overall.brier) == (1, pytest.approx(0.09))
    score_services.scores_snapshot(as_of=dt.date(2024, 2, 2))  # resolved the next day
    assert ScoreSnapshot.objects.get(as_of=dt.date(2024, 2, 2)).resolved_count == 0


def test_an_estimate_made_once_the_outcome_was_known_is_hindsight():
    made = forecast(probability=0.2)
    estimate(made, probability=0.9, made_on=dt.date(2024, 3, 1))
    resolve(made, "YES", known_on=dt.date(2024, 4, 1), recorded=dt.date(2024, 4, 1))
    # Corrected: the outcome was known in February, before the 90 % estimate.
    resolve(made, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 5, 1))
    only_late = ForecastFactory(estimate=None, made_on=dt.date(2024, 1, 10))
    estimate(only_late, probability=0.5, made_on=dt.date(2024, 3, 1))
    resolve(only_late, "NO", known_on=dt.date(2024, 3, 1), recorded=dt.date(2024, 3, 2))

    score_services.scores_snapshot(as_of=dt.date(2024, 4, 2))
    score_services.scores_snapshot(as_of=dt.date(2024, 5, 1))
    before = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=dt.date(2024, 4, 2))
    after = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=dt.date(2024, 5, 1))
    # The forecast estimated only on its outcome's day is never scored.
    assert (before.resolved_count, after.resolved_count) == (1, 1)
    assert before.time_averaged_brier < 0.64  # the 90 % estimate counted then
    assert after.time_averaged_brier == pytest.approx(0.64)  # and no longer
    assert after.brier == pytest.approx(0.64)


def test_an_annulment_removes_a_forecast_from_the_day_it_was_recorded():
    made = forecast(probability=0.2)
    resolve(made, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 1))
    resolve(made, "ANNULLED", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 3, 1))
    score_services.scores_backfill(until=UNTIL)
    counts = overall_counts()
    assert counts[dt.date(2024, 2, 22)] == 1
    assert counts[dt.date(2024, 2, 29)] == 1
    assert counts[dt.date(2024, 3, 7)] == 0
    assert counts[UNTIL] == 0


def test_the_recording_day_is_the_sites_local_day(settings):
    settings.TIME_ZONE = "America/New_York"
    made = forecast(probability=0.2)
    # 22:00 in New York on 1 February is 03:00 UTC on the 2nd.
    resolve(made, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 2), hour=3)
    score_services.scores_snapshot(as_of=dt.date(2024, 1, 31))
    score_services.scores_snapshot(as_of=dt.date(2024, 2, 1))
    # (and today's, which the live scores keep)
    assert overall_counts() == {dt.date(2024, 1, 31): 0, dt.date(2024, 2, 1): 1, UNTIL: 1}
    score_services.scores_backfill(until=UNTIL)
    assert min(overall_counts()) == dt.date(2024, 2, 1)


def test_a_backfill_replaces_every_other_date_with_one_series():
    rng = random.Random(14)
    people = ForecasterFactory.create_batch(3)
    for number in range(12):
        made_on = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(40))
        made = forecast(rng.choice(people), made_on=made_on, probability=rng.random())
        known = made_on + dt.timedelta(days=rng.randrange(1, 60))
        recorded = known + dt.timedelta(days=rng.randrange(0, 10))
        resolve(made, rng.choice(["YES", "NO"]), known_on=known, recorded=recorded)
        if number % 3 == 0:
            resolve(
                made,
                rng.choice(["YES", "NO", "ANNULLED"]),
                known_on=known + dt.timedelta(days=rng.randrange(0, 5)),
                recorded=recorded + dt.timedelta(days=rng.randrange(0, 40)),
            )
    # An old-rule snapshot before the history starts, and a --date one between weekly dates.
    ScoreSnapshot.objects.create(
        scope_kind=ScopeKind.ALL,
        scope_id=0,
        as_of=dt.date(2023, 6, 1),
        resolved_count=0,
        yes_count=0,
    )
    call_command("snapshot_scores", "--date", "2024-03-13")
    score_services.scores_backfill(until=UNTIL)
    first = dates = sorted(overall_counts())
    assert all((b - a).days == 7 for a, b in itertools.pairwise(dates[:-1]))
    assert dates[-1] == UNTIL
    for day in dates:
        assert_matches_the_record(day)

    # More data, a nightly-style snapshot, and a second backfill: still one series.
    for _ in range(4):
        made = forecast(rng.choice(people), made_on=dt.date(2023, 12, 1), probability=0.4)
        resolve(made, "YES", known_on=dt.date(2023, 12, 20), recorded=dt.date(2023, 12, 21))
    score_services.scores_snapshot(as_of=dt.date(2024, 6, 5))
    report = score_services.scores_backfill(until=UNTIL)
    dates = sorted(overall_counts())
    assert dates[0] == report.first == dt.date(2023, 12, 21) < first[0]
    assert len(dates) == report.dates
    assert all((b - a).days == 7 for a, b in itertools.pairwise(dates[:-1]))
    assert set(ScoreSnapshot.objects.values_list("as_of", flat=True)) == set(dates)
    for day in dates:
        assert_matches_the_record(day)


def test_a_backfill_keeps_dates_after_its_end():
    made = forecast(probability=0.2)
    resolve(made, "YES", known_on=dt.date(2024, 2, 1), recorded=dt.date(2024, 2, 1))
    score_services.scores_snapshot(as_of=UNTIL)
    score_services.scores_backfill(until=dt.date(2024, 3, 1))
    assert max(overall_counts()) == UNTIL
    assert min(overall_counts()) == dt.date(2024, 2, 1)


def test_seed_history_starts_the_day_it_was_loaded(seeded, client):
    """The seed's outcomes were recorded when it was loaded: that is where history starts."""
    report = score_services.scores_backfill(until=UNTIL)
    assert (report.dates, report.first) == (1, UNTIL)
    assert overall_counts() == {UNTIL: 10}
    assert client.get("/").status_code == 200


def test_synthetic_data_has_a_history_as_recorded():
    """The bench's data: resolutions recorded days after their outcome became known and
    estimates on the day they were made, so the history grows over the years."""
    from forecasts.devtools.synthetic import synthetic_generate

    synthetic_generate(
        forecasts=120, estimates=360, forecasters=4, sources=3, tags=2, seed=3, today=UNTIL
    )
    report = score_services.scores_backfill(until=UNTIL)
    counts = overall_counts()
    assert report.first < dt.date(2017, 1, 1)
    assert len(counts) > 300
    assert 0 < counts[report.first] < counts[UNTIL]
    for day in [*list(counts)[:: len(counts) // 6], UNTIL]:
        assert_matches_the_record(day)


def test_a_period_board_follows_a_correction_that_moves_the_outcome_across_its_start():
    """A period's boards read only forecasts with some outcome known in the period, and
    score the resolution that stands: a correction moving the known date into the period
    brings a forecast in, one moving it out takes it out."""
    from forecasts.scores.boards import BoardFilters, filtered_snapshots

    pundit = ForecasterFactory()
    moved_in = forecast(pundit, probability=0.3)
    resolve(moved_in, "YES", known_on=dt.date(2024, 1, 20), recorded=dt.date(2024, 1, 21))
    resolve(moved_in, "YES", known_on=dt.date(2024, 3, 5), recorded=dt.date(2024, 3, 6))
    moved_out = forecast(pundit, probability=0.6)
    resolve(moved_out, "NO", known_on=dt.date(2024, 3, 10), recorded=dt.date(2024, 3, 11))
    resolve(moved_out, "NO", known_on=dt.date(2024, 1, 25), recorded=dt.date(2024, 3, 12))
    stays_out = forecast(pundit, probability=0.9)
    resolve(stays_out, "YES", known_on=dt.date(2024, 1, 5), recorded=dt.date(2024, 1, 6))

    filters = BoardFilters(known_from=dt.date(2024, 2, 1), known_until=dt.date(2024, 6, 30))
    snapshots = filtered_snapshots(filters, today=dt.date(2024, 8, 1))
    [mine] = [s for s in snapshots if s.scope_kind == ScopeKind.FORECASTER]
    assert mine.scope_id == pundit.pk
    assert mine.resolved_count == 1  # moved_in alone
    assert mine.brier == pytest.approx((0.3 - 1) ** 2)
