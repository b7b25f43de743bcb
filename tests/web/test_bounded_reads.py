"""Every public read runs the same number of queries however many forecasts there are
(issue 15): the scorecard's lists and counts, the public list and its pages, the scope
pages, their indexes (issue 17) and the API list. Counted, not timed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasts.core import services
from forecasts.core.changes import public_pages_changed
from forecasts.models import Forecast, Forecaster, Source, Tag
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    SourceFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _add(count: int, *, start: int) -> None:
    """``count`` forecasts of every kind: drafts, open, due, resolved, corrected, annulled,
    all by one forecaster and source and under one tag, with a few estimates each."""
    forecaster = Forecaster.objects.get_or_create(slug="pundit", defaults={"name": "The pundit"})[0]
    source = Source.objects.filter(key="article").first() or SourceFactory(key="article")
    tag = Tag.objects.filter(slug="topic").first() or TagFactory(slug="topic", name="Topic")
    for number in range(start, start + count):
        kind = number % 6
        forecast = ForecastFactory(
            slug=f"f-{number}",
            forecaster=forecaster if number % 2 else ForecasterFactory(),
            source=source if number % 3 else SourceFactory(),
            made_on=dt.date(2025, 1, 1),
            resolve_by=dt.date(2025, 6, 1) + dt.timedelta(days=30 * (number % 20)),
            published_at=None if kind == 0 else NOW,
        )
        forecast.tags.set([tag])
        for day in range(1, number % 4 + 1):
            EstimateFactory(forecast=forecast, made_on=dt.date(2025, 1, 1 + day))
        if kind in (3, 4, 5):
            services.forecast_resolve(
                forecast=forecast,
                outcome={3: "YES", 4: "NO", 5: "ANNULLED"}[kind],
                known_on=dt.date(2025, 5, 1),
                note="Seen.",
            )
        if kind == 4 and number % 4 == 0:
            services.forecast_resolve(
                forecast=forecast,
                outcome="YES",
                known_on=dt.date(2025, 5, 2),
                note="Seen again.",
                correction_reason="Misread.",
            )


PAGES = [
    "/",
    # A filtered scorecard: its headline, charts and boards from the stored sums (issue 17).
    "/?tag=topic",
    "/?tag=topic&period=2025",
    "/?period=12m",
    "/forecasts/",
    "/forecasts/?status=due",
    "/forecasts/?status=open",
    "/forecasts/?status=resolved",
    "/forecasts/?page=2",
    "/forecasters/pundit/",
    "/sources/article/",
    "/tags/topic/",
    "/forecasters/",
    "/sources/",
    "/tags/",
    "/api/forecasts?limit=20",
    "/api/forecasts?limit=20&status=due",
    "/api/forecasts?limit=20&offset=20&status=resolved",
    "/api/forecasts?limit=20&tag=topic",
    # Searched, filtered and sorted (issue 17, 3): the filters' choices are a LIMIT each.
    "/forecasts/?q=happens&tag=topic&sort=-brier",
    "/forecasts/?forecaster=pundit&source=article&status=resolved&sort=brier",
    "/forecasts/?sort=probability&page=2",
    "/forecasts/?sort=-made&resolve_by_after=2025-09-01",
    "/api/forecasts?limit=20&q=happens&sort=-probability&forecaster=pundit",
]


def _queries(client) -> dict[str, int]:
    counts = {}
    for url in PAGES:
        public_pages_changed()  # uncached
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_public_reads_run_as_many_queries_at_any_size(client):
    _add(130, start=0)
    small = _queries(client)
    _add(260, start=130)
    assert Forecast.objects.published().count() > 300
    assert _queries(client) == small


def test_the_public_list_is_counted_from_the_stored_counts(client):
    _add(60, start=0)
    public_pages_changed()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/forecasts/?status=resolved")
    assert response.status_code == 200
    sql = [query["sql"] for query in queries]
    assert not any("COUNT(" in statement.upper() for statement in sql), sql
    resolved = Forecast.objects.resolved().count()
    assert f"{resolved} forecasts with status “resolved”" in response.content.decode()
    listed = client.get("/api/forecasts?status=resolved&limit=5").json()
    assert listed["count"] == resolved


def test_a_tag_page_lists_its_forecasts_by_deadline_from_the_tag_listing(client):
    """A rare tag's page reads its page of ids from the tag's listing (one index range),
    not from the forecasts walked by deadline until enough carry the tag; the rows are
    the tag's published forecasts, soonest deadline first, pages included."""
    _add(24, start=0)  # under "topic"
    rare = TagFactory(slug="rare", name="Rare")
    tagged = []
    for number in range(55):
        forecast = ForecastFactory(
            slug=f"rare-{number}",
            made_on=dt.date(2025, 1, 1),
            resolve_by=dt.date(2025, 2, 1) + dt.timedelta(days=(number * 7) % 55),
            published_at=None if number == 3 else NOW,
        )
        forecast.tags.set([rare])
        if number != 3:
            tagged.append(forecast)
    expected = [f.slug for f in sorted(tagged, key=lambda f: (f.resolve_by, f.pk))]
    public_pages_changed()
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/tags/rare/")
    assert first.status_code == 200
    assert any("publishedtaglisting" in query["sql"] for query in queries)
    second = client.get("/tags/rare/?page=2")
    listed = [
        slug
        for page in (first, second)
        for slug in expected
        if f'href="/forecasts/{slug}/"' in page.content.decode()
    ]
    assert sorted(listed) == sorted(expected)  # every published one, the draft on neither
    body = first.content.decode()
    shown = [slug for slug in expected if f'href="/forecasts/{slug}/"' in body]
    assert len(shown) == 50
    assert shown == expected[:50]
    assert body.index(f'href="/forecasts/{shown[0]}/"') < body.index(
        f'href="/forecasts/{shown[-1]}/"'
    )
