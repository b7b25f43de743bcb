"""The seed article's forecasts: content, polarity, idempotency."""

import pytest
from django.core.management import call_command

from forecasts.core import phrases, seed_data
from forecasts.core.services.forecasts import forecast_amend
from forecasts.models import Estimate, Forecast, Resolution, Source, Status, Tag
from tests.conftest import NOW, SEED_ARTICLE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def snapshot():
    """Everything the loader writes, to compare two runs."""
    return {
        "sources": list(Source.objects.values().order_by("pk")),
        "forecasts": list(Forecast.objects.values().order_by("pk")),
        "estimates": list(Estimate.objects.values().order_by("pk")),
        "resolutions": list(Resolution.objects.values().order_by("pk")),
        "tags": list(Tag.objects.values().order_by("pk")),
        "forecast_tags": list(Forecast.tags.through.objects.values().order_by("pk")),
    }


def test_loads_at_least_ten_forecasts_attributed_to_the_article(seeded):
    forecasts = Forecast.objects.select_related("source")
    assert forecasts.count() == len(seed_data.FORECASTS) >= 10
    assert {f.source.title for f in forecasts} == {
        "U.S. and North Korea: Restart of talks, but to what end?"
    }
    assert seeded.created == len(seed_data.FORECASTS)


def test_running_twice_changes_nothing(seed_text, db):
    call_command("load_seed_forecasts", "--text", str(SEED_ARTICLE))
    first = snapshot()
    call_command("load_seed_forecasts", "--text", str(SEED_ARTICLE))
    call_command("load_seed_forecasts")  # without the text: the stored text is kept
    assert snapshot() == first


def test_second_run_reports_everything_present(seeded, capsys):
    call_command("load_seed_forecasts")
    out = capsys.readouterr().out
    assert f"0 forecasts created, {len(seed_data.FORECASTS)} already present" in out


def test_every_quote_is_verbatim_from_the_article_and_located(seeded, seed_text):
    for forecast in Forecast.objects.all():
        assert forecast.quote in seed_text, forecast.slug
        assert seed_text[forecast.quote_start : forecast.quote_end] == forecast.quote
        assert len(forecast.quote) < 300, "quotes are single sentences, not the article"
    assert Source.objects.get().text == seed_text


def test_required_predictions_are_present(seeded):
    slugs = set(Forecast.objects.values_list("slug", flat=True))
    assert {
        "no-deal-before-end-of-first-term",
        "dprk-waits-out-2020-election",
        "trump-wins-second-term",
        "biegun-becomes-deputy-secretary",
        "biegun-keeps-negotiating-role",
        "denuclearization-in-short-term",
    } <= slugs


@pytest.mark.parametrize(
    ("slug", "phrase", "expected"),
    [
        # "what is unlikely is that the deal will deliver full denuclearization"
        # → P(full denuclearization first) is the *low* value of "unlikely".
        ("full-denuclearization-as-first-step", "unlikely", 0.20),
        ("denuclearization-in-short-term", "unlikely", 0.20),
        ("trump-wins-second-term", "appears poised", None),
        ("no-deal-before-end-of-first-term", "the most likely scenario", None),
    ],
)
def test_probabilities_come_from_the_phrase_with_the_right_polarity(seeded, slug, phrase, expected):
    estimate = Estimate.objects.get(forecast__slug=slug)
    reading = phrases.lookup(phrase)
    assert estimate.basis == "phrase"
    assert estimate.phrase == reading.text
    assert estimate.negated is False
    assert estimate.probability == reading.probability
    assert (estimate.low, estimate.high) == (reading.low, reading.high)
    if expected is not None:
        assert estimate.probability == pytest.approx(expected)
    # A proposition the article called likely gets more than even odds, and vice versa.
    if "unlikely" in phrase:
        assert estimate.probability < 0.5
    elif "likely" in phrase or "poised" in phrase:
        assert estimate.probability > 0.5


def test_dates_are_estimated_with_precision_marked(seeded):
    source = Source.objects.get()
    assert source.published_precision == "month"
    assert (source.published_on.year, source.published_on.month) == (2019, 10)
    for forecast in Forecast.objects.all():
        assert forecast.made_on_precision == "month"
        assert forecast.resolve_by >= forecast.made_on


def test_deadlines_made_explicit(seeded):
    deadlines = dict(Forecast.objects.values_list("slug", "resolve_by"))
    assert str(deadlines["no-deal-before-end-of-first-term"]) == "2021-01-20"
    assert str(deadlines["trump-wins-second-term"]) == "2020-11-03"
    short_term = Forecast.objects.get(slug="denuclearization-in-short-term")
    assert "short term" in short_term.resolve_by_note


def test_history_settles_outcomes_and_leaves_work_for_reviewers(seeded):
    outcomes = dict(
        Resolution.objects.filter(is_current=True).values_list("forecast__slug", "outcome")
    )
    assert outcomes["trump-wins-second-term"] == "NO"
    assert outcomes["no-deal-before-end-of-first-term"] == "YES"
    assert outcomes["biegun-becomes-deputy-secretary"] == "YES"
    assert outcomes["biegun-keeps-negotiating-role"] == "YES"
    assert outcomes["full-denuclearization-as-first-step"] == "NO"
    biegun = Resolution.objects.get(forecast__slug="biegun-becomes-deputy-secretary")
    assert str(biegun.known_on) == "2019-12-19"
    assert "Beigen" in biegun.evidence_note
    for resolution in Resolution.objects.all():
        assert resolution.evidence_note
        assert resolution.evidence_url.startswith("https://")

    due = Forecast.objects.due(at=NOW)
    assert 2 <= due.count() <= 3
    assert all(f.resolve_by < NOW.date() for f in due)
    assert Forecast.objects.with_state(Status.OPEN, at=NOW).count() == 0


def test_an_amended_seed_forecast_is_not_overwritten(seeded):
    unresolved = Forecast.objects.filter(resolutions__isnull=True).order_by("slug").first()
    forecast_amend(
        forecast=unresolved,
        changes={"statement": "Edited by an editor."},
        reason="Clearer wording.",
        amended_by=UserFactory(is_staff=True, is_superuser=True),
    )
    call_command("load_seed_forecasts")
    assert Forecast.objects.get(pk=unresolved.pk).statement == "Edited by an editor."


def test_a_text_missing_a_quote_is_refused_and_nothing_changes(seeded, tmp_path):
    before = snapshot()
    wrong = tmp_path / "other.txt"
    wrong.write_text("An unrelated article about the weather.", encoding="utf-8")
    with pytest.raises(Exception, match="The quote is not in the source text"):
        call_command("load_seed_forecasts", "--text", str(wrong))
    assert snapshot() == before


def test_unreadable_text_file_is_a_clear_error(db, tmp_path):
    binary = tmp_path / "article.bin"
    binary.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(Exception, match="Cannot read the article text"):
        call_command("load_seed_forecasts", "--text", str(binary))
    assert Forecast.objects.count() == 0
