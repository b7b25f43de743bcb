"""Live scores: kept in step with the record in the transaction that changes it, and equal
(to 1e-9) to a full recomputation from the record."""

import datetime as dt
import random
import re

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse

from forecasts.core import services as core_services
from forecasts.models import (
    ForecastScore,
    ReviewerAssignment,
    ScopeKind,
    ScoreSnapshot,
    ScoreSum,
    ScoreTally,
)
from forecasts.scores import verify
from forecasts.scores.additive import SCALE
from forecasts.scores.boards import board_filters, filtered_snapshots
from forecasts.scores.compute import scope_snapshots, scored_forecasts
from forecasts.scores.rows import score_rows
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)
NOON = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(NOON, tick=False)


def resolve(forecast, outcome, known_on, reason=""):
    return core_services.forecast_resolve(
        forecast=forecast,
        outcome=outcome,
        known_on=known_on,
        note="Reported.",
        correction_reason=reason,
    )


def forecast_with(probabilities, *, forecaster=None, source=None, tags=(), made=None):
    """A published forecast with estimates ``probabilities`` a week apart."""
    made = made or dt.date(2024, 1, 10)
    made_forecast = ForecastFactory(
        estimate=None,
        made_on=made,
        resolve_by=made + dt.timedelta(days=200),
        **({"forecaster": forecaster} if forecaster else {}),
        **({"source": source} if source else {}),
    )
    made_forecast.tags.set(tags)
    for week, probability in enumerate(probabilities):
        EstimateFactory(
            forecast=made_forecast,
            probability=probability,
            made_on=made + dt.timedelta(weeks=week),
            basis="phrase" if probability in (0.2, 0.8) else "number",
            phrase={0.2: "unlikely", 0.8: "likely"}.get(probability, ""),
        )
    return made_forecast


def retag(forecast, tags):
    """Change a published forecast's tags as the admin does, every other field as it is."""
    terms = ("slug", "source", "forecaster", "statement", "quote", "resolution_criteria")
    dates = ("made_on", "made_on_precision", "resolve_by", "resolve_by_note", "condition")
    core_services.forecast_update(
        forecast=forecast, **{field: getattr(forecast, field) for field in terms + dates}, tags=tags
    )


def random_record(rng, *, forecasts=40):
    """Forecasts in several scopes, resolved, corrected, annulled and retagged through the
    services, with outcomes known over two years."""
    forecasters = [ForecasterFactory() for _ in range(4)]
    sources = [SourceFactory() for _ in range(3)]
    tags = [TagFactory() for _ in range(4)]
    made = []
    for _ in range(forecasts):
        made.append(
            forecast_with(
                [
                    rng.choice([0.1, 0.2, 0.35, 0.5, 0.7, 0.8, 0.95])
                    for _ in range(rng.randint(1, 3))
                ],
                forecaster=rng.choice(forecasters),
                source=rng.choice(sources),
                tags=rng.sample(tags, rng.randint(0, 2)),
                made=dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 500)),
            )
        )
    for forecast in made:
        if rng.random() < 0.15:
            continue  # left unresolved
        known = min(forecast.made_on + dt.timedelta(days=rng.randint(0, 250)), TODAY)
        resolve(forecast, rng.choice(["YES", "NO", "YES", "NO", "ANNULLED"]), known)
        if rng.random() < 0.25:
            resolve(
                forecast,
                rng.choice(["YES", "NO", "ANNULLED"]),
                min(known + dt.timedelta(days=rng.randint(0, 40)), TODAY),
                reason="The first report was wrong.",
            )
        if rng.random() < 0.2:
            retag(forecast, rng.sample(tags, rng.randint(0, 3)))
    return {"forecasters": forecasters, "sources": sources, "tags": tags, "forecasts": made}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_live_scores_equal_a_full_recomputation(seed):
    random_record(random.Random(seed))
    report = verify.scores_verify()
    assert report.ok, report.differences
    assert report.forecasts == ForecastScore.objects.count() > 10
    full = {(s.scope_kind, s.scope_id): s for s in verify.full_snapshots(as_of=TODAY)}
    stored = {(s.scope_kind, s.scope_id): s for s in ScoreSnapshot.objects.filter(as_of=TODAY)}
    assert verify.snapshots_differences(full, stored) == []
    assert len(stored) > 8  # everything, forecasters, sources and tags


@pytest.mark.parametrize(
    ("tag_index", "period"),
    [(None, "12m"), (None, "2024"), (None, "2025"), (0, "all"), (1, "12m"), (2, "2025")],
)
def test_filtered_boards_from_the_monthly_sums_equal_rescoring_the_filtered_forecasts(
    tag_index, period
):
    record = random_record(random.Random(7), forecasts=60)
    tag = record["tags"][tag_index] if tag_index is not None else None
    filters = board_filters(tag=tag.slug if tag else None, period=period, today=TODAY)
    from_sums = {(s.scope_kind, s.scope_id): s for s in filtered_snapshots(filters, today=TODAY)}
    # Independently: score the forecasts the filters keep, as the boards used to.
    rescored = scope_snapshots(
        scored_forecasts(
            score_rows(
                as_of=filters.known_until or TODAY,
                known_from=filters.known_from,
                tag_id=tag.pk if tag else None,
            )
        ),
        as_of=TODAY,
    )
    expected = {(s.scope_kind, s.scope_id): s for s in rescored if s.resolved_count}
    assert from_sums.keys() == expected.keys()
    for scope, snapshot in expected.items():
        for name in (
            "resolved_count",
            "yes_count",
            "brier",
            "shrunk_brier",
            "log_loss",
            "time_averaged_brier",
            "skill_vs_coin",
            "skill_vs_base_rate",
        ):
            want, got = getattr(snapshot, name), getattr(from_sums[scope], name)
            assert (want is None and got is None) or abs(want - got) < 1e-9, (scope, name)


def test_a_period_starting_mid_month_counts_only_its_days():
    early = forecast_with([0.7])
    late = forecast_with([0.2])
    resolve(early, "YES", dt.date(2025, 11, 27))
    resolve(late, "NO", dt.date(2025, 11, 29))
    filters = board_filters(tag=None, period="12m", today=TODAY)  # from 2025-11-29
    overall = {(s.scope_kind, s.scope_id): s for s in filtered_snapshots(filters, today=TODAY)}[
        (ScopeKind.ALL.value, 0)
    ]
    assert overall.resolved_count == 1
    assert overall.brier == pytest.approx(0.2**2)


def test_a_correction_and_its_reversal_leave_the_sums_exactly_as_they_were():
    forecast = forecast_with([0.35, 0.8], tags=[TagFactory()])
    resolve(forecast, "YES", dt.date(2024, 3, 1))
    before = sorted(ScoreSum.objects.values_list(*ScoreSum.KEY_FIELDS, *ScoreSum.SUM_FIELDS))
    for outcome in ("NO", "ANNULLED", "NO", "YES"):
        resolve(forecast, outcome, dt.date(2024, 3, 1), reason=f"Now {outcome}.")
    after = sorted(ScoreSum.objects.values_list(*ScoreSum.KEY_FIELDS, *ScoreSum.SUM_FIELDS))
    assert after == before  # integers: not one unit of drift
    everything = ScoreSum.objects.get(scope_kind="all", scope_id=0, tag_id=0, month=0)
    assert everything.brier_sum == round(0.65**2 * SCALE)


def test_an_annulment_takes_the_forecast_out_and_empty_rows_go():
    forecaster = ForecasterFactory()
    forecast = forecast_with([0.7], forecaster=forecaster)
    resolve(forecast, "YES", dt.date(2024, 3, 1))
    assert ScoreSum.objects.filter(scope_kind="forecaster", scope_id=forecaster.pk).count() == 2
    resolve(forecast, "ANNULLED", dt.date(2024, 3, 1), reason="The question was void.")
    assert not ForecastScore.objects.exists()
    assert not ScoreSum.objects.filter(scope_kind="forecaster").exists()
    assert not ScoreTally.objects.exists()
    everything = ScoreSum.objects.get(scope_kind="all", scope_id=0, tag_id=0, month=0)
    assert (everything.resolved_count, everything.brier_sum) == (0, 0)
    assert not ScoreSnapshot.objects.filter(scope_kind="forecaster", as_of=TODAY).exists()
    assert ScoreSnapshot.objects.get(scope_kind="all", as_of=TODAY).resolved_count == 0


def test_retagging_a_resolved_forecast_moves_it_between_tag_scores():
    old, new = TagFactory(), TagFactory()
    forecast = forecast_with([0.7], tags=[old])
    resolve(forecast, "NO", dt.date(2024, 3, 1))
    assert ScoreSnapshot.objects.get(scope_kind="tag", scope_id=old.pk, as_of=TODAY).brier == (
        pytest.approx(0.49)
    )
    retag(forecast, [new])
    assert not ScoreSnapshot.objects.filter(scope_kind="tag", scope_id=old.pk).exists()
    assert ScoreSnapshot.objects.get(scope_kind="tag", scope_id=new.pk, as_of=TODAY).brier == (
        pytest.approx(0.49)
    )
    assert verify.scores_verify().ok


def _sums():
    return sorted(
        ScoreSum.objects.values_list("scope_kind", "scope_id", "resolved_count", "brier_sum")
    )


def _resolve_and_fail(forecast):
    with transaction.atomic():
        resolve(forecast, "YES", dt.date(2024, 3, 1))
        assert ForecastScore.objects.count() == 2  # inside, it counted
        raise RuntimeError("the request failed after resolving")


def test_a_rolled_back_resolution_leaves_the_live_scores_untouched():
    forecast = forecast_with([0.7])
    resolve(forecast_with([0.2]), "NO", dt.date(2024, 3, 1))
    before = _sums()
    with pytest.raises(RuntimeError, match="failed after resolving"):
        _resolve_and_fail(forecast)
    assert _sums() == before
    assert ForecastScore.objects.count() == 1
    assert ScoreSnapshot.objects.get(scope_kind="all", as_of=TODAY).resolved_count == 1


def test_verify_scores_names_a_tampered_sum_and_repair_restores_it(capsys):
    random_record(random.Random(5), forecasts=15)
    call_command("verify_scores")
    assert "agree with a full recomputation" in capsys.readouterr().out
    row = ScoreSum.objects.filter(scope_kind="forecaster", month=0, tag_id=0).first()
    ScoreSum.objects.filter(pk=row.pk).update(brier_sum=row.brier_sum + SCALE // 100)
    with pytest.raises(CommandError, match="differences from a full recomputation"):
        call_command("verify_scores")
    assert f"sums ('forecaster', {row.scope_id}, 0, 0)" in capsys.readouterr().err
    call_command("verify_scores", "--repair")
    assert (
        ScoreSum.objects.get(
            pk__isnull=False, scope_kind="forecaster", scope_id=row.scope_id, tag_id=0, month=0
        ).brier_sum
        == row.brier_sum
    )
    assert verify.scores_verify().ok


def test_the_nightly_snapshot_rebuilds_scores_written_behind_the_services_back(caplog):
    from forecasts.scores import services

    forecast = forecast_with([0.7])
    resolve(forecast, "YES", dt.date(2024, 3, 1))
    tag = TagFactory()
    forecast.tags.add(tag)  # not through forecast_update: nothing announced
    services.scores_snapshot(as_of=TODAY)
    assert "live scores differed from the full snapshot" in caplog.text
    assert ScoreSnapshot.objects.get(scope_kind="tag", scope_id=tag.pk, as_of=TODAY)
    assert verify.scores_verify().ok


def _headline(html):
    match = re.search(
        r"(\d+) resolved, .*?Brier score at publication is <strong>([0-9.]+)", html, re.S
    )
    return int(match.group(1)), match.group(2)


def test_a_resolution_shows_at_once_everywhere_with_no_worker(
    client, settings, django_capture_on_commit_callbacks
):
    """The headline count and Brier, the forecaster's leaderboard row and /api/scores count a
    resolution in the very next request: no task runs in between (none is queued)."""
    settings.LEADERBOARD_MIN_RESOLVED = 2
    forecaster = ForecasterFactory(name="Ada Analyst", slug="ada")
    earlier = [forecast_with([p], forecaster=forecaster) for p in (0.7, 0.2)]
    resolve(earlier[0], "YES", dt.date(2024, 3, 1))
    resolve(earlier[1], "NO", dt.date(2024, 3, 1))
    due = forecast_with([0.9], forecaster=forecaster)
    assert _headline(client.get("/").content.decode()) == (2, f"{(0.09 + 0.04) / 2:.3f}")

    reviewer = UserFactory(username="rita", is_staff=True)
    reviewer.user_permissions.add(Permission.objects.get(codename="view_forecast"))
    ReviewerAssignment.objects.create(forecast=due, reviewer=reviewer)
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True) as committed:  # the commit
        response = client.post(
            reverse("admin:forecasts_forecast_resolve", args=[due.pk]),
            {"outcome": "NO", "known_on": "2024-09-01", "note": "It did not happen."},
        )
    assert response.status_code == 302
    # What runs on commit only invalidates cached pages; nothing is queued for a worker.
    assert [callback.__name__ for callback in committed] == ["public_pages_changed"]
    client.logout()

    expected = (0.3**2 + 0.2**2 + 0.9**2) / 3  # computed by hand
    assert _headline(client.get("/").content.decode()) == (3, f"{expected:.3f}")
    board = client.get(reverse("forecasts:leaderboard", args=["forecasters"])).content.decode()
    row = board[board.index("Ada Analyst") :].split("</tr>")[0]
    assert f"{expected:.3f}" in row
    assert re.search(r">\s*3\s*<", row)
    items = client.get("/api/scores", {"kind": "forecaster"}).json()["items"]
    ada = next(item for item in items if item["slug"] == "ada")
    assert ada["resolved_count"] == 3
    assert ada["brier"] == pytest.approx(expected, abs=1e-12)


@time_machine.travel(NOON, tick=False)
def test_the_first_change_of_a_day_writes_every_scopes_snapshot_for_it():
    first = forecast_with([0.7], tags=[TagFactory()])
    resolve(first, "YES", dt.date(2024, 3, 1))
    ScoreSnapshot.objects.all().delete()
    second = forecast_with([0.2])
    resolve(second, "NO", dt.date(2024, 3, 1))
    kinds = sorted(ScoreSnapshot.objects.filter(as_of=TODAY).values_list("scope_kind", flat=True))
    # everything, two forecasters, two sources and the first forecast's tag
    assert kinds == ["all", "forecaster", "forecaster", "source", "source", "tag"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_resolutions_each_count_once():
    import threading

    from django.db import connection

    from tests.conftest import require_postgresql

    require_postgresql("SQLite serialises writers; PostgreSQL runs them at once.")
    forecaster, tag = ForecasterFactory(), TagFactory()
    forecasts = [
        forecast_with([0.1 * (i + 1)], forecaster=forecaster, tags=[tag]) for i in range(8)
    ]
    errors = []
    barrier = threading.Barrier(len(forecasts))

    def run(forecast):
        try:
            barrier.wait()
            resolve(forecast, "YES", dt.date(2024, 3, 1))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(f,)) for f in forecasts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    row = ScoreSum.objects.get(
        scope_kind="forecaster", scope_id=forecaster.pk, tag_id=tag.pk, month=0
    )
    assert row.resolved_count == 8
    assert verify.scores_verify().ok


def test_a_period_starting_early_in_a_month_takes_the_days_before_it_away(time_machine):
    time_machine.move_to(dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC), tick=False)
    before = forecast_with([0.7])
    inside = forecast_with([0.2])
    resolve(before, "YES", dt.date(2025, 12, 3))
    resolve(inside, "NO", dt.date(2025, 12, 20))
    filters = board_filters(tag=None, period="12m", today=dt.date(2026, 12, 5))
    assert filters.known_from == dt.date(2025, 12, 6)  # December less its first five days
    overall = {
        (s.scope_kind, s.scope_id): s
        for s in filtered_snapshots(filters, today=dt.date(2026, 12, 5))
    }[(ScopeKind.ALL.value, 0)]
    assert overall.resolved_count == 1
    assert overall.brier == pytest.approx(0.2**2)
