"""Score snapshots: right numbers, one pass, replace-not-duplicate, history, coalesced recompute."""

import datetime as dt
import math

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from forecasts.core import services as core_services
from forecasts.core.changes import public_pages_changed
from forecasts.models import (
    Estimate,
    Forecast,
    Resolution,
    ScopeKind,
    ScoreSnapshot,
)
from forecasts.scores import services as score_services
from forecasts.scores.additive import SHRINK_PSEUDOCOUNT
from forecasts.scores.sums import scope_phrase_table
from tests.conftest import require_postgresql
from tests.factories import EstimateFactory, ForecastFactory, ResolutionFactory, TagFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(autouse=True)
def recorded_today(time_machine):
    """Rows are recorded at noon on TODAY (the seed's resolutions, the factories'
    estimates and resolutions): a snapshot as of TODAY sees them, an earlier one does not."""
    time_machine.move_to(dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC))


def independent_brier(forecasts):
    """Mean (p − o)² over the first estimate of each resolved YES/NO forecast, computed plainly."""
    total = count = 0
    for forecast in forecasts:
        resolution = forecast.resolutions.get(is_current=True)
        if resolution.outcome == "ANNULLED":
            continue
        first = forecast.estimates.order_by("made_on", "pk").first()
        outcome = 1.0 if resolution.outcome == "YES" else 0.0
        total += (first.probability - outcome) ** 2
        count += 1
    return total / count, count


def test_seed_snapshot_matches_an_independent_computation(seeded):
    report = score_services.scores_snapshot(as_of=TODAY)
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY)
    expected, count = independent_brier(Forecast.objects.filter(resolutions__is_current=True))
    assert overall.resolved_count == count == report.resolved == 10
    assert overall.brier == pytest.approx(expected, abs=1e-12)
    assert overall.yes_count == Resolution.objects.filter(is_current=True, outcome="YES").count()
    assert overall.skill_vs_coin == pytest.approx(1 - expected / 0.25, abs=1e-12)
    murphy = overall.murphy
    assert murphy["reliability"] - murphy["resolution"] + murphy["uncertainty"] == pytest.approx(
        expected, abs=1e-12
    )
    assert sum(b["count"] for b in overall.calibration) == 10
    assert len(overall.calibration) == 10
    expected_log_loss = (
        -sum(
            math.log(p if o else 1 - p)
            for p, o in (
                (
                    f.estimates.order_by("made_on", "pk").first().probability,
                    f.resolutions.get(is_current=True).outcome == "YES",
                )
                for f in Forecast.objects.filter(resolutions__is_current=True)
            )
        )
        / 10
    )
    assert overall.log_loss == pytest.approx(expected_log_loss, abs=1e-12)


def test_every_scope_gets_a_snapshot(seeded):
    score_services.scores_snapshot(as_of=TODAY)
    kinds = {(s.scope_kind, s.scope_id): s for s in ScoreSnapshot.objects.filter(as_of=TODAY)}
    forecaster = Forecast.objects.first().forecaster
    source = Forecast.objects.first().source
    assert kinds[(ScopeKind.FORECASTER, forecaster.pk)].resolved_count == 10
    assert kinds[(ScopeKind.SOURCE, source.pk)].resolved_count == 10
    for tag in {t for f in Forecast.objects.all() for t in f.tags.all()}:
        resolved_with_tag = tag.forecasts.filter(
            resolutions__is_current=True, resolutions__outcome__in=["YES", "NO"]
        )
        if resolved_with_tag.exists():
            snapshot = kinds[(ScopeKind.TAG, tag.pk)]
            expected, count = independent_brier(resolved_with_tag)
            assert snapshot.resolved_count == count
            assert snapshot.brier == pytest.approx(expected, abs=1e-12)


def test_rerunning_a_date_replaces_its_snapshots(seeded):
    score_services.scores_snapshot(as_of=TODAY)
    first = {s.pk for s in ScoreSnapshot.objects.all()}
    score_services.scores_snapshot(as_of=TODAY)
    assert ScoreSnapshot.objects.count() == len(first)
    assert not first & {s.pk for s in ScoreSnapshot.objects.all()}


def test_a_correction_changes_the_next_snapshot(seeded):
    score_services.scores_snapshot(as_of=TODAY)
    before = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY).brier
    trump = Forecast.objects.get(slug="trump-wins-second-term")
    core_services.forecast_resolve(
        forecast=trump,
        outcome="YES",
        known_on=dt.date(2020, 11, 7),
        note="Test correction.",
        correction_reason="Testing.",
    )
    score_services.scores_snapshot(as_of=TODAY)
    after = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY).brier
    p = trump.estimates.get().probability
    assert after == pytest.approx(before + ((p - 1) ** 2 - p**2) / 10, abs=1e-12)


def test_annulled_and_not_yet_known_outcomes_are_not_scored(seeded):
    trump = Forecast.objects.get(slug="trump-wins-second-term")
    core_services.forecast_resolve(
        forecast=trump,
        outcome="ANNULLED",
        known_on=dt.date(2020, 11, 7),
        note="Test.",
        correction_reason="Testing annulment.",
    )
    score_services.scores_snapshot(as_of=TODAY)
    assert ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY).resolved_count == 9
    # Two outcomes were known by 2020, but none was on record: the seed was loaded on TODAY.
    score_services.scores_snapshot(as_of=dt.date(2020, 1, 1))
    early = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=dt.date(2020, 1, 1))
    assert early.resolved_count == 0


def test_time_averaged_brier_hand_case():
    """40 % for 6 days, then 70 % for 3 days, resolving YES: (6·0.36 + 3·0.09)/9 = 0.27."""
    forecast = ForecastFactory(
        made_on=dt.date(2024, 1, 1), resolve_by=dt.date(2024, 1, 10), estimate=None
    )
    EstimateFactory(forecast=forecast, probability=0.4, made_on=dt.date(2024, 1, 1))
    EstimateFactory(forecast=forecast, probability=0.7, made_on=dt.date(2024, 1, 7))
    ResolutionFactory(forecast=forecast, outcome="YES", known_on=dt.date(2024, 1, 10))
    score_services.scores_snapshot(as_of=TODAY)
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY)
    assert overall.time_averaged_brier == pytest.approx(0.27, abs=1e-12)
    assert overall.brier == pytest.approx(0.36, abs=1e-12)  # at publication: 40 %


def test_empty_database_gets_an_empty_overall_snapshot(db):
    report = score_services.scores_snapshot(as_of=TODAY)
    overall = ScoreSnapshot.objects.get()
    assert (report.scopes, overall.resolved_count, overall.brier) == (1, 0, None)


def test_forecast_without_estimates_is_skipped_not_fatal():
    ResolutionFactory(forecast=ForecastFactory(estimate=None))
    ResolutionFactory()
    score_services.scores_snapshot(as_of=TODAY)
    assert ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL).resolved_count == 1


def test_small_samples_are_shrunk_toward_a_coin_flip():
    lucky = ResolutionFactory(outcome="YES", forecast__estimate__probability=0.99).forecast
    score_services.scores_snapshot(as_of=TODAY)
    snapshot = ScoreSnapshot.objects.get(
        scope_kind=ScopeKind.FORECASTER, scope_id=lucky.forecaster_id
    )
    k = SHRINK_PSEUDOCOUNT
    assert snapshot.shrunk_brier == pytest.approx((0.0001 + k * 0.25) / (1 + k))


def test_snapshot_query_count_does_not_grow_with_scopes(django_assert_max_num_queries):
    tags = TagFactory.create_batch(5)
    for i in range(40):
        forecast = ForecastFactory()
        forecast.tags.set(tags[: i % 5])
        ResolutionFactory(forecast=forecast, outcome="YES" if i % 2 else "NO")
    # 3 reads and the opening phrases; today's: the live scores' lock (2), their sums and
    # tallies (2), the delete and the bulk insert (SQLite splits it in two), and the
    # savepoints.
    with django_assert_max_num_queries(15):
        report = score_services.scores_snapshot(as_of=TODAY)
    assert report.scopes == 1 + 40 + 40 + 4


def test_backfill_builds_weekly_history_the_page_shows(client, seeded, time_machine):
    # The seed's outcomes were recorded on TODAY; three weeks later, one more.
    time_machine.move_to(dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC))
    extra = ResolutionFactory(outcome="NO").forecast
    later = dt.date(2026, 12, 19)
    time_machine.move_to(dt.datetime(2026, 12, 19, 12, tzinfo=dt.UTC))
    report = score_services.scores_backfill(until=later)
    dates = sorted(set(ScoreSnapshot.objects.values_list("as_of", flat=True)))
    assert dates == [TODAY, dt.date(2026, 12, 5), dt.date(2026, 12, 12), later]
    assert report.dates == len(dates)
    counts = dict(
        ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL)
        .order_by("as_of")
        .values_list("as_of", "resolved_count")
    )
    assert counts == {TODAY: 10, dt.date(2026, 12, 5): 10, dt.date(2026, 12, 12): 11, later: 11}
    assert ScoreSnapshot.objects.get(
        scope_kind=ScopeKind.FORECASTER, scope_id=extra.forecaster_id, as_of=dt.date(2026, 12, 12)
    )
    html = client.get(reverse("forecasts:scores")).content.decode()
    assert "11 resolved forecasts" in html
    assert TODAY.strftime("%-d %b %Y") in html


def _phrase_counts(rows):
    return {row["phrase"]: (row["count"], row["happened"]) for row in rows}


def test_the_overall_snapshot_holds_the_phrase_table_as_of_its_date(seeded):
    score_services.scores_snapshot(as_of=TODAY)
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY)
    # Independently: each resolved forecast's first estimate, when it is a phrase, and
    # its outcome.
    expected: dict[str, tuple[int, int]] = {}
    for forecast in Forecast.objects.filter(resolutions__is_current=True).distinct():
        resolution = forecast.current_resolution()
        first = forecast.estimates.order_by("made_on", "pk").first()
        if first.basis != "phrase" or first.negated or resolution.outcome not in ("YES", "NO"):
            continue
        count, happened = expected.get(first.phrase, (0, 0))
        expected[first.phrase] = (count + 1, happened + (resolution.outcome == "YES"))
    assert expected
    assert _phrase_counts(overall.phrases) == expected
    others = ScoreSnapshot.objects.exclude(scope_kind=ScopeKind.ALL)
    assert set(others.values_list("phrases", flat=True)) == {None}

    # A past date's snapshot holds none: the table reads today's resolutions, which
    # that day had not on record (it is "not computed", as on backfilled dates).
    early = Resolution.objects.order_by("known_on").first().known_on
    score_services.scores_snapshot(as_of=early)
    then = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=early)
    assert then.phrases is None


def test_a_correction_moves_the_phrase_table_in_its_own_transaction(seeded):
    forecast = Forecast.objects.filter(estimates__phrase="unlikely").order_by("pk").first()
    first = forecast.current_resolution()

    def table():
        return _phrase_counts(
            row.to_dict() for row in scope_phrase_table(kind=ScopeKind.ALL, scope_id=0)
        )

    before = table()
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="NO" if first.outcome == "YES" else "YES",
        known_on=first.known_on,
        note="Corrected.",
        correction_reason="The first report was wrong.",
    )
    count, happened = before["unlikely"]
    flipped = happened - 1 if first.outcome == "YES" else happened + 1
    assert table()["unlikely"] == (count, flipped)
    # And today's stored snapshot of everything carries it too.
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY)
    assert _phrase_counts(overall.phrases)["unlikely"] == (count, flipped)


def test_a_backfill_stores_the_phrase_table_with_its_last_date_only(seeded, time_machine):
    later = TODAY + dt.timedelta(days=21)
    time_machine.move_to(dt.datetime.combine(later, dt.time(12), tzinfo=dt.UTC))
    score_services.scores_backfill(until=later)
    overall = ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL)
    assert overall.count() == 4
    assert overall.get(as_of=later).phrases
    assert set(overall.exclude(as_of=later).values_list("phrases", flat=True)) == {None}


def test_the_scorecard_shows_the_snapshots_phrase_table(client, seeded):
    score_services.scores_snapshot(as_of=TODAY)
    live = client.get("/").content.decode()
    assert "“unlikely”" in live
    # What the page shows comes from the snapshot, not from a query at request time.
    overall = ScoreSnapshot.objects.get(scope_kind=ScopeKind.ALL, as_of=TODAY)
    overall.phrases = [
        {
            "phrase": "a snapshot's phrase",
            "count": 3,
            "happened": 1,
            "observed_frequency": 1 / 3,
            "interval_low": 0.06,
            "interval_high": 0.79,
        }
    ]
    overall.save()
    public_pages_changed()
    html = client.get("/").content.decode()
    assert "“a snapshot&#x27;s phrase”" in html
    assert "“unlikely”" not in html
    # A snapshot without one (a backfilled date) falls back to computing it.
    overall.phrases = None
    overall.save()
    public_pages_changed()
    assert "“unlikely”" in client.get("/").content.decode()


def test_snapshot_command(seeded, capsys):
    call_command("snapshot_scores", "--date", "2021-01-01")
    assert "scores as of 2021-01-01" in capsys.readouterr().out
    with pytest.raises(CommandError, match="not a date in YYYY-MM-DD form"):
        call_command("snapshot_scores", "--date", "01/02/2021")
    with pytest.raises(CommandError, match="in the future"):
        call_command("snapshot_scores", "--date", "2999-01-01")
    call_command("snapshot_scores", "--backfill")
    assert "Backfilled" in capsys.readouterr().out


def test_detail_page_explains_the_score(client, seeded):
    html = client.get(
        reverse("forecasts:detail", args=["full-denuclearization-as-first-step"])
    ).content.decode()
    assert "Brier score at publication: 0.0400" in html
    assert "(0.20 − 0)²" in html


def test_detail_page_shows_time_averaged_brier_when_updated(client):
    forecast = ForecastFactory(
        made_on=dt.date(2024, 1, 1), resolve_by=dt.date(2024, 1, 10), estimate=None
    )
    EstimateFactory(forecast=forecast, probability=0.4, made_on=dt.date(2024, 1, 1))
    EstimateFactory(forecast=forecast, probability=0.7, made_on=dt.date(2024, 1, 7))
    ResolutionFactory(forecast=forecast, outcome="YES", known_on=dt.date(2024, 1, 10))
    html = client.get(forecast.get_absolute_url()).content.decode()
    assert "Time-averaged Brier score: <strong>0.2700</strong>" in html
    assert Estimate.objects.filter(forecast=forecast).count() == 2


def test_list_shows_the_brier_at_publication(client, seeded):
    html = client.get(reverse("forecasts:list")).content.decode()
    trump = Forecast.objects.get(slug="trump-wins-second-term")
    row = html[html.index(trump.get_absolute_url()) :].split("</tr>")[0]
    p = trump.estimates.get().probability
    assert f"{p**2:.3f}" in row


def test_nightly_task_is_scheduled_and_snapshots_today(seeded, time_machine):
    from forecasts import tasks
    from tracker.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert "forecasts.tasks.scores_snapshot_today" in schedule
    time_machine.move_to(dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC))
    assert "scores as of 2026-03-01" in tasks.scores_snapshot_today.apply().get()
    overall = ScoreSnapshot.objects.filter(as_of=dt.date(2026, 3, 1), scope_kind=ScopeKind.ALL)
    assert overall.exists()


def test_if_empty_backfills_only_the_first_time(seeded, capsys):
    call_command("snapshot_scores", "--backfill", "--if-empty")
    count = ScoreSnapshot.objects.count()
    assert count > 1  # every scope as of the day the seed was loaded
    call_command("snapshot_scores", "--backfill", "--if-empty")
    assert "nothing to do" in capsys.readouterr().out
    assert ScoreSnapshot.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_snapshots_of_a_date_leave_one_set(seeded):
    import threading

    from django.db import connection

    require_postgresql(
        "SQLite's shared in-memory test database fails concurrent writers with "
        "'table is locked' instead of making them wait."
    )

    errors = []
    barrier = threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            score_services.scores_snapshot(as_of=TODAY)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = ScoreSnapshot.objects.filter(as_of=TODAY)
    assert rows.filter(scope_kind=ScopeKind.ALL).count() == 1
    assert rows.count() == len({(r.scope_kind, r.scope_id) for r in rows})
