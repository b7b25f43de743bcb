"""The synthetic data generator: sizes, constraints, realism, determinism, clearing."""

import datetime as dt
import io
import statistics
from collections import defaultdict

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Min, Q

from forecasts.core import phrases
from forecasts.core.ledger.canonical import GENESIS_HASH
from forecasts.core.ledger.verify import ledger_verify
from forecasts.core.services import forecast_resolve
from forecasts.devtools.synthetic import (
    EVIDENCE_NOTE,
    PREFIX,
    synthetic_clear,
    synthetic_generate,
)
from forecasts.models import (
    Basis,
    Estimate,
    Forecast,
    Forecaster,
    LedgerEntry,
    LedgerHead,
    Outcome,
    Resolution,
    ReviewerAssignment,
    Source,
    Status,
    Tag,
)
from tests.conftest import NOW
from tests.factories import ForecastFactory, ResolutionFactory, TagFactory

pytestmark = pytest.mark.django_db

TODAY = NOW.date()
SIZES = {"forecasts": 300, "estimates": 1000, "forecasters": 7, "sources": 5, "tags": 4}


@pytest.fixture
def report():
    # A batch size that does not divide the forecasts exercises a short last batch.
    return synthetic_generate(**SIZES, seed=1, batch_size=128, today=TODAY)


def synthetic_forecasts():
    return Forecast.objects.filter(synthetic=True)


def synthetic_rows():
    return {
        "forecasts": synthetic_forecasts().count(),
        "estimates": Estimate.objects.filter(forecast__synthetic=True).count(),
        "resolutions": Resolution.objects.filter(forecast__synthetic=True).count(),
        "tag links": Forecast.tags.through.objects.filter(
            Q(forecast__synthetic=True) | Q(tag__synthetic=True)
        ).count(),
        "forecasters": Forecaster.objects.filter(synthetic=True).count(),
        "sources": Source.objects.filter(synthetic=True).count(),
        "tags": Tag.objects.filter(synthetic=True).count(),
    }


def brier(probability, outcome):
    return (probability - (1.0 if outcome == Outcome.YES else 0.0)) ** 2


def test_writes_exactly_the_sizes_asked_for(report):
    rows = synthetic_rows()
    assert rows["forecasts"] == report.forecasts == 300
    assert rows["estimates"] == report.estimates == 1000
    assert rows["resolutions"] == report.resolutions > 0
    assert rows["forecasters"] == report.forecasters == 7
    assert rows["sources"] == report.sources == 5
    assert rows["tags"] == report.tags == 4
    assert Forecast.objects.filter(source__synthetic=True).count() == 300
    assert Forecast.objects.filter(forecaster__synthetic=True).count() == 300


def test_the_synthetic_chain_records_every_published_forecast_and_verifies(report):
    entries = LedgerEntry.objects.filter(chain="synthetic")
    published = synthetic_forecasts().exclude(published_at=None)
    later = Estimate.objects.filter(forecast__in=published).exclude(made_on=F("forecast__made_on"))
    assert entries.filter(kind="publication").count() == published.count()
    assert entries.filter(kind="estimate").count() == later.count() > 0
    assert entries.filter(kind__in=["resolution", "annulment"]).count() == report.resolutions
    assert entries.count() == report.entries
    assert not LedgerEntry.objects.filter(chain="record").exists()
    assert LedgerHead.objects.get(chain="synthetic").seq == report.entries
    verified = ledger_verify()
    assert verified.entries == report.entries
    assert verified.forecasts == published.count()
    assert verified.estimates == Estimate.objects.filter(forecast__in=published).count()


def test_the_synthetic_chain_continues_after_a_service_appends_to_it(report):
    resolved = Resolution.objects.filter(forecast__synthetic=True).first()
    forecast_resolve(
        forecast=resolved.forecast,
        outcome=Outcome.ANNULLED,
        known_on=resolved.known_on,
        note="Reworded.",
        correction_reason="The question was ambiguous.",
    )
    assert ledger_verify().entries == report.entries + 1


def test_the_report_is_one_summary_line(report):
    text = str(report)
    assert "\n" not in text
    assert text.startswith("Synthetic data: 300 forecasts, 1000 estimates, ")
    assert (
        f"{report.resolutions} resolutions, 7 forecasters, 5 sources, 4 tags, "
        f"{report.entries} ledger entries in "
    ) in text


def test_each_forecast_starts_with_an_estimate_on_its_made_on(report):
    forecasts = synthetic_forecasts().annotate(
        n=Count("estimates"), first=Min("estimates__made_on")
    )
    assert all(forecast.n >= 1 for forecast in forecasts)
    assert all(forecast.first == forecast.made_on for forecast in forecasts)
    assert max(forecast.n for forecast in forecasts) > 1


def test_estimates_stay_between_made_on_and_deadline_and_before_the_outcome(report):
    estimates = Estimate.objects.filter(forecast__synthetic=True).select_related("forecast")
    known_on = dict(Resolution.objects.values_list("forecast_id", "known_on"))
    for estimate in estimates:
        forecast = estimate.forecast
        assert forecast.made_on <= estimate.made_on <= forecast.resolve_by
        assert estimate.made_on <= TODAY
        if forecast.pk in known_on and estimate.made_on > forecast.made_on:
            assert estimate.made_on < known_on[forecast.pk]


def test_every_row_passes_the_models_validation(report):
    samples = [
        *Source.objects.filter(synthetic=True),
        *Forecaster.objects.filter(synthetic=True),
        *Tag.objects.filter(synthetic=True),
        *synthetic_forecasts()[::10],
        *Estimate.objects.filter(forecast__synthetic=True)[::10],
        *Resolution.objects.filter(forecast__synthetic=True),
    ]
    for row in samples:
        row.full_clean()
    assert len(samples) > 300


def test_resolutions_are_one_per_forecast_after_the_forecast_and_known_by_today(report):
    resolutions = Resolution.objects.filter(forecast__synthetic=True)
    duplicated = (
        resolutions.filter(is_current=True)
        .values("forecast")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    assert not duplicated.exists()
    assert resolutions.filter(is_current=True).count() == report.resolutions
    assert all(resolution.evidence_note == EVIDENCE_NOTE for resolution in resolutions)
    for resolution in resolutions.select_related("forecast"):
        forecast = resolution.forecast
        assert forecast.published_at is not None
        assert forecast.made_on <= resolution.known_on <= TODAY
        assert resolution.known_on >= forecast.resolve_by - dt.timedelta(days=30)


def test_phrase_estimates_carry_the_lexicon_reading_and_numbers_carry_none(report):
    estimates = Estimate.objects.filter(forecast__synthetic=True)
    worded = list(estimates.filter(basis=Basis.PHRASE))
    assert 0.12 < len(worded) / 1000 < 0.28
    for estimate in worded:
        phrase = phrases.lookup(estimate.phrase)
        assert (estimate.probability, estimate.low, estimate.high) == (
            phrase.probability,
            phrase.low,
            phrase.high,
        )
        assert not estimate.negated
    numbers = estimates.filter(basis=Basis.NUMBER)
    assert numbers.count() == 1000 - len(worded)
    assert not numbers.exclude(phrase="").exists()
    assert not numbers.filter(Q(low__isnull=False) | Q(high__isnull=False)).exists()
    assert not numbers.filter(Q(probability__lt=0.01) | Q(probability__gt=0.99)).exists()
    assert all(round(p, 2) == p for p in numbers.values_list("probability", flat=True))


def test_lifecycle_mix_is_realistic(report):
    statuses = defaultdict(int)
    for forecast in synthetic_forecasts().with_status(at=NOW):
        statuses[forecast.status] += 1
    resolved = statuses[Status.RESOLVED] + statuses[Status.ANNULLED]
    assert 0.65 < resolved / 300 < 0.85
    assert statuses[Status.DUE] > 0
    assert statuses[Status.OPEN] > 0
    assert statuses[Status.ANNULLED] > 0
    assert statuses[Status.ANNULLED] < 0.1 * resolved
    assert statuses[Status.DRAFT] < 15
    published = synthetic_forecasts().exclude(published_at=None)
    assert all(
        forecast.published_at.date() == forecast.made_on and forecast.published_at.hour == 12
        for forecast in published
    )
    made_on = sorted(synthetic_forecasts().values_list("made_on", flat=True))
    assert made_on[0].year == 2015
    assert made_on[-1].year == 2025
    tag_counts = {forecast.n for forecast in synthetic_forecasts().annotate(n=Count("tags"))}
    assert tag_counts == {0, 1, 2, 3}


def test_estimates_improve_toward_the_deadline(report):
    outcome = dict(
        Resolution.objects.filter(
            forecast__synthetic=True, outcome__in=[Outcome.YES, Outcome.NO]
        ).values_list("forecast_id", "outcome")
    )
    history = defaultdict(list)
    estimates = Estimate.objects.filter(forecast_id__in=outcome).order_by(
        "forecast_id", "made_on", "pk"
    )
    for forecast_id, probability in estimates.values_list("forecast_id", "probability"):
        history[forecast_id].append(brier(probability, outcome[forecast_id]))
    updated = [scores for scores in history.values() if len(scores) > 1]
    assert len(updated) > 50
    first = statistics.mean(scores[0] for scores in updated)
    last = statistics.mean(scores[-1] for scores in updated)
    assert last < first - 0.05


def test_forecasters_differ_in_skill():
    # Enough estimates per forecaster that sampling noise (about 0.01) cannot
    # pass for a difference in skill.
    synthetic_generate(
        forecasts=2000, estimates=4000, forecasters=4, sources=1, tags=0, seed=5, today=TODAY
    )
    outcome = dict(
        Resolution.objects.filter(outcome__in=[Outcome.YES, Outcome.NO]).values_list(
            "forecast_id", "outcome"
        )
    )
    scores = defaultdict(list)
    for forecast_id, forecaster_id, probability in Estimate.objects.filter(
        forecast_id__in=outcome, basis=Basis.NUMBER
    ).values_list("forecast_id", "forecast__forecaster_id", "probability"):
        scores[forecaster_id].append(brier(probability, outcome[forecast_id]))
    means = sorted(statistics.mean(values) for values in scores.values())
    assert len(means) == 4
    assert means[-1] - means[0] > 0.03, means


def test_same_seed_gives_the_same_data_whatever_the_batch_size():
    def snapshot():
        return list(
            Estimate.objects.filter(forecast__synthetic=True)
            .order_by("forecast__slug", "made_on", "pk")
            .values_list("forecast__slug", "made_on", "probability", "phrase")
        )

    sizes = {"forecasts": 60, "estimates": 200, "forecasters": 3, "sources": 2, "tags": 3}
    synthetic_generate(**sizes, seed=7, batch_size=60, today=TODAY)
    first = snapshot()
    synthetic_clear()
    synthetic_generate(**sizes, seed=7, batch_size=7, today=TODAY)
    assert snapshot() == first
    synthetic_clear()
    synthetic_generate(**sizes, seed=8, today=TODAY)
    assert [row[2] for row in snapshot()] != [row[2] for row in first]


def test_progress_is_reported_per_batch():
    calls = []
    synthetic_generate(
        forecasts=25,
        estimates=40,
        forecasters=2,
        sources=1,
        tags=0,
        batch_size=10,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(10, 25), (20, 25), (25, 25)]


def test_refuses_to_write_over_earlier_synthetic_data(report):
    with pytest.raises(ValidationError, match="already present"):
        synthetic_generate(**SIZES, seed=2)
    assert synthetic_rows()["forecasts"] == 300


@pytest.mark.parametrize(
    ("sizes", "message"),
    [
        ({"estimates": 9}, r"estimates \(9\) must be at least forecasts \(10\)"),
        ({"forecasters": -1}, r"forecasters cannot be negative \(got -1\)"),
        ({"forecasters": 0}, "at least one forecaster"),
        ({"sources": 0}, "at least one source"),
    ],
)
def test_service_refuses_impossible_sizes(sizes, message):
    args = {"forecasts": 10, "estimates": 10, "forecasters": 1, "sources": 1, "tags": 0}
    with pytest.raises(ValidationError, match=message):
        synthetic_generate(**{**args, **sizes})
    assert synthetic_rows()["forecasters"] == 0


def test_clear_removes_synthetic_rows_and_only_those(report):
    real = ForecastFactory()
    real.tags.add(TagFactory())
    real_resolution = ResolutionFactory(forecast=real)
    # A corrected synthetic resolution: the superseded row is PROTECTed.
    corrected = Resolution.objects.filter(forecast__synthetic=True).first()
    forecast_resolve(
        forecast=corrected.forecast,
        outcome=Outcome.ANNULLED,
        known_on=corrected.known_on,
        note="Reworded.",
        correction_reason="The question was ambiguous.",
    )
    ReviewerAssignment.objects.create(
        forecast=corrected.forecast, reviewer=get_user_model().objects.create(username="r")
    )
    calls = []

    deleted = synthetic_clear(
        batch_size=100, progress=lambda done, total: calls.append((done, total))
    )

    assert deleted == 300
    assert calls == [(100, 300), (200, 300), (300, 300)]
    assert not LedgerEntry.objects.filter(chain="synthetic").exists()
    head = LedgerHead.objects.get(chain="synthetic")
    assert (head.seq, head.hash) == (0, GENESIS_HASH)
    assert set(synthetic_rows().values()) == {0}
    assert not ReviewerAssignment.objects.exists()
    assert list(Forecast.objects.all()) == [real]
    assert list(Estimate.objects.values_list("forecast_id", "probability")) == [(real.pk, 0.7)]
    assert list(Resolution.objects.all()) == [real_resolution]
    assert real.tags.count() == 1
    assert Source.objects.count() == Forecaster.objects.count() == Tag.objects.count() == 1
    assert synthetic_clear() == 0


def test_clear_never_takes_a_real_forecast_named_like_synthetic_data(report):
    # A real forecast about synthetic fuels, say: its slug is no mark of synthetic data.
    real = ForecastFactory(slug="synthetic-fuels-cheaper-than-jet-fuel-by-2030")
    assert synthetic_clear() == 300
    assert Forecast.objects.get() == real
    assert real.estimates.count() == 1


def test_refuses_to_generate_over_real_rows_holding_its_names():
    real = ForecastFactory(slug=f"{PREFIX}forecast-0000001")
    with pytest.raises(ValidationError, match=r"\(forecasts named synthetic-forecast-"):
        synthetic_generate(**SIZES, seed=1, today=TODAY)
    assert list(Forecast.objects.all()) == [real]
    assert not Source.objects.filter(synthetic=True).exists()


def test_clear_keeps_synthetic_sources_a_real_forecast_uses(report):
    source = Source.objects.filter(synthetic=True).first()
    real = ForecastFactory(source=source)
    synthetic_clear()
    assert list(Source.objects.filter(synthetic=True)) == [source]
    assert Forecast.objects.get() == real


def command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("generate_synthetic", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


SMALL = ["--forecasts", "20", "--estimates", "50", "--forecasters", "3", "--sources", "2"]


def test_command_prints_progress_and_the_summary():
    out, err = command(*SMALL, "--tags", "2", "--seed", "3", "--batch-size", "5")
    assert out.strip().splitlines()[-1].startswith("Synthetic data: 20 forecasts, 50 estimates, ")
    assert "3 forecasters, 2 sources, 2 tags, " in out
    lines = err.strip().splitlines()
    assert lines[0] == "generate_synthetic: written 5/20 forecasts (25 %)"
    assert lines[-1] == "generate_synthetic: written 20/20 forecasts (100 %)"
    assert synthetic_rows()["estimates"] == 50


def test_command_clear_replaces_and_clear_alone_only_clears():
    command(*SMALL)
    out, _ = command(*SMALL, "--clear", "--seed", "4")
    assert "Synthetic data cleared: 20 forecasts deleted." in out
    assert synthetic_rows()["forecasts"] == 20
    out, err = command("--clear", "--forecasts", "0")
    assert out.strip() == "Synthetic data cleared: 20 forecasts deleted."
    assert "cleared 20/20 forecasts (100 %)" in err
    assert set(synthetic_rows().values()) == {0}


def test_command_refuses_to_write_over_earlier_synthetic_data():
    command(*SMALL)
    with pytest.raises(CommandError, match="already present"):
        command(*SMALL)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--forecasts", "10", "--estimates", "9"], r"estimates \(9\) must be at least"),
        (["--forecasts", "-1"], "forecasts cannot be negative"),
        (["--tags", "-2"], "tags cannot be negative"),
        (["--forecasts", "10", "--forecasters", "0"], "at least one forecaster"),
        (["--forecasts", "10", "--sources", "0"], "at least one source"),
    ],
)
def test_command_refuses_bad_sizes_before_clearing_anything(args, message):
    command(*SMALL)
    with pytest.raises(CommandError, match=message):
        command("--clear", *args)
    assert synthetic_rows()["forecasts"] == 20
