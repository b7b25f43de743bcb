"""The public scorecard and the forecaster, source and tag pages."""

import datetime as dt
import re
from html import unescape as html_unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from forecasts.core import services as core_services
from forecasts.models import Forecast, Forecaster, Outcome, Resolution, Source, Tag
from forecasts.scores import services as score_services
from tests.factories import ForecastFactory, ResolutionFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 28)


LOADED = dt.date(2026, 11, 21)


@pytest.fixture(autouse=True)
def loaded_a_week_before(time_machine):
    """The seed is loaded (its outcomes recorded) a week before TODAY: snapshots count them
    from then."""
    time_machine.move_to(dt.datetime.combine(LOADED, dt.time(12), tzinfo=dt.UTC))


@pytest.fixture
def scored(seeded, time_machine):
    score_services.scores_snapshot(as_of=LOADED)
    time_machine.move_to(dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC))
    score_services.scores_snapshot(as_of=TODAY)
    return seeded


def test_scorecard_headline_and_tables(client, scored):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<h1>") == 1
    assert "13 forecasts tracked: 10 resolved, 3 past their deadline" in html
    forecaster = Forecaster.objects.get()
    assert reverse("forecasts:forecaster", args=[forecaster.slug]) in html
    assert reverse("forecasts:source", args=[Source.objects.get().key]) in html
    assert "“unlikely”" in html  # the phrase table
    assert "Recently resolved" in html


def _section(html: str, heading: str) -> str:
    return html[html.index(f"<h2>{heading}</h2>") :].split("<h2>")[1]


def test_forecasts_awaiting_a_verdict_are_listed_longest_overdue_first(
    client, scored, django_capture_on_commit_callbacks
):
    today = timezone.localdate()
    due = list(Forecast.objects.due(at=timezone.now()).order_by("resolve_by", "pk"))
    assert len(due) == 3  # the seed leaves three unresolved
    section = _section(client.get("/").content.decode(), "Awaiting a verdict")
    positions = [section.index(escape(forecast.statement)) for forecast in due]
    assert positions == sorted(positions)
    for forecast in due:
        days = (today - forecast.resolve_by).days
        assert f"deadline {forecast.resolve_by:%-d %b %Y} ({days} days ago)" in section
    assert "?status=due" not in section  # all three are shown

    with django_capture_on_commit_callbacks(execute=True):  # the cached page is replaced
        core_services.forecast_resolve(
            forecast=due[0],
            outcome=Outcome.YES,
            known_on=due[0].resolve_by,
            evidence_url="https://example.org/evidence",
            note="Reported.",
        )
    section = _section(client.get("/").content.decode(), "Awaiting a verdict")
    assert escape(due[0].statement) not in section
    assert escape(due[1].statement) in section


def test_the_scorecard_links_to_every_forecast_awaiting_a_verdict(client, scored):
    ForecastFactory.create_batch(10, made_on=dt.date(2023, 1, 1), resolve_by=dt.date(2024, 1, 1))
    section = _section(client.get("/").content.decode(), "Awaiting a verdict")
    assert section.count("<li>") == 10
    assert 'href="/forecasts/?status=due">All 13 awaiting a verdict</a>' in section


def test_phrase_table_counts_what_happened(client, scored):
    html = client.get("/").content.decode()
    row = html[html.index('<th scope="row">“unlikely”</th>') :].split("</tr>")[0]
    # Two resolved forecasts were worded "unlikely" (full denuclearization first,
    # denuclearization in the short term); neither happened.
    unlikely = Forecast.objects.filter(estimates__phrase="unlikely", resolutions__is_current=True)
    assert unlikely.count() == 2
    assert '<td class="num">2</td>' in row
    assert "0 (0 %)" in row


def test_bad_sort_is_a_400(client, scored):
    response = client.get("/", {"sort": "<b>nope</b>"})
    assert response.status_code == 400
    assert "Unknown sort" in response.content.decode()
    assert "<b>nope</b>" not in response.content.decode()


@pytest.mark.parametrize("sort", ["rank", "brier", "resolved", "log_loss", "skill"])
def test_each_sort_renders(client, scored, sort):
    assert client.get("/", {"sort": sort}).status_code == 200


def test_forecaster_page(client, scored):
    forecaster = Forecaster.objects.get()
    html = client.get(reverse("forecasts:forecaster", args=[forecaster.slug])).content.decode()
    assert "10 resolved forecasts as of 28 Nov 2026" in html
    assert Forecast.objects.get(slug="trump-wins-second-term").statement in html
    assert "Accuracy over time: Unnamed analyst (seed article)" in html


def test_source_page_highlights_the_quotes_in_the_text(client, scored):
    source = Source.objects.get()
    html = client.get(reverse("forecasts:source", args=[source.key])).content.decode()
    assert html.count("<mark>") == Forecast.objects.exclude(quote_start=None).count()
    first = html.index("The fate of a new round")
    last = html.index("this scenario is less probable")
    assert first < last  # quotes listed in the order they appear


def test_tag_page(client, scored):
    tag = Tag.objects.get(slug="state-department")
    html = client.get(reverse("forecasts:tag", args=[tag.slug])).content.decode()
    assert "Biegun" in html
    assert "trump-wins-second-term" not in html


def test_drafts_never_appear(client, scored):
    draft = ForecastFactory(
        published_at=None, statement="Secret draft", forecaster=Forecaster.objects.get()
    )
    for url in ("/", reverse("forecasts:forecaster", args=[draft.forecaster.slug])):
        assert "Secret draft" not in client.get(url).content.decode()


def test_pages_run_a_bounded_number_of_queries(client, scored, django_assert_max_num_queries):
    forecaster = Forecaster.objects.get()
    for _ in range(20):
        ResolutionFactory(forecast__forecaster=forecaster)
    score_services.scores_snapshot(as_of=TODAY)
    with django_assert_max_num_queries(16):
        client.get("/")
    with django_assert_max_num_queries(12):
        client.get(reverse("forecasts:forecaster", args=[forecaster.slug]))


def test_unknown_scope_is_404(client, db):
    assert client.get(reverse("forecasts:forecaster", args=["nobody"])).status_code == 404
    assert client.get(reverse("forecasts:source", args=["nothing"])).status_code == 404


def test_pages_carry_their_charts_with_text_alternatives(client, scored):
    html = client.get("/").content.decode()
    assert "<figcaption>Calibration: everything</figcaption>" in html
    assert "<figcaption>Accuracy over time: everything</figcaption>" in html
    assert html.count('role="img"') >= 3  # two charts and the leaderboard sparklines
    assert "<script" not in html
    forecaster = Forecaster.objects.get()
    page = client.get(reverse("forecasts:forecaster", args=[forecaster.slug])).content.decode()
    assert f"<figcaption>Calibration: {forecaster.name}</figcaption>" in page
    detail_url = reverse("forecasts:detail", args=["trump-wins-second-term"])
    detail = client.get(detail_url).content.decode()
    assert 'role="img"' in detail


def test_recently_resolved_is_in_the_order_of_the_dates_it_shows_with_the_probability_given(
    client, scored
):
    """Issue 17 (13): ordered by when each was recorded (all at once on a fresh install),
    the list showed the days outcomes became known out of order, and no probability."""
    section = _section(client.get("/").content.decode(), "Recently resolved")
    shown = [
        dt.datetime.strptime(day, "%d %b %Y").date()
        for day in re.findall(r"known (\d{1,2} \w{3} \d{4})", section)
    ]
    assert len(shown) == 10
    assert shown == sorted(shown, reverse=True)
    first = Resolution.objects.filter(is_current=True).order_by("-known_on", "-pk").first()
    given = first.forecast.estimates.order_by("made_on", "pk").first().probability
    line = html_unescape(section.split("<li>")[1])
    assert first.forecast.statement in line
    assert f"given {round(given * 100)}\xa0%" in line
