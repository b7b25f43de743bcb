"""The CSV export's COPY path on PostgreSQL: the same rows as the Python path, streamed.

Every test here needs PostgreSQL (``require_postgresql``: skipped with the reason on
SQLite, a failure in CI); the Python path itself is tested on both databases in
``test_exports_feeds.py``.
"""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forecasts.models import Forecast
from forecasts.web import exports
from forecasts.web.filters import ForecastFilters
from tests.conftest import require_postgresql
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    SourceFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

NUMBER_COLUMNS = {"published_probability", "probability", "brier"}

# Text a spreadsheet would run, text CSV must quote, and text from further afield.
AWKWARD = [
    '=HYPERLINK("http://evil.example","click")',
    "+1+2 happens",
    "-1 is the answer",
    "@SUM(A1:A9) happens",
    "\t=1+1 after a tab",
    "\rcarriage return first",
    'A "quoted", comma-separated\nmulti-line statement',
    "Ends with a newline\n",
    "'already quoted",
    "Ünïcödé — «guillemets», 北朝鮮, עברית, 🙂 and e\u0301",
    "100% sure, O'Brien says; under_score",
    " leading space, trailing space ",
    " =1+1 after a space",
    "\u00a0\u3000@SUM(A1) after no-break and ideographic spaces",
    "\uff1d1+1 fullwidth",
    "\ufeff\uff0d1 after a byte-order mark",
]
PROBABILITIES = [0.0, 1.0, 0.5, 1 / 3, 2 / 3, 0.123456789, 0.05, 1e-7, 0.999999999, 0.7]


@pytest.fixture
def awkward_record():
    """Forecasts in every state, with awkward text in every text column."""
    tags = [TagFactory(slug="tag-one"), TagFactory(slug="tag-two")]
    forecasters = [
        ForecasterFactory(name="=cmd|'/c calc'!A1", slug="formula-pundit"),
        ForecasterFactory(name='Zoë "Z" O\'Neil, PhD', slug="zoe"),
    ]
    sources = [
        SourceFactory(title="@mention, the source", key="at-source"),
        SourceFactory(title="Plain source\nwith a line break", key="plain-source"),
    ]
    today = timezone.localdate()
    for number, text in enumerate(AWKWARD):
        forecast = ForecastFactory(
            slug="-minus-slug" if number == 0 else f"awkward-{number}",
            statement=text,
            forecaster=forecasters[number % 2],
            source=sources[number % 2],
            made_on=dt.date(2020, 1, 1) + dt.timedelta(days=number),
            # Deadlines passed (due, when unresolved) and to come (open).
            resolve_by=today + dt.timedelta(days=(-30 if number % 2 == 0 else 30) + number),
            estimate=None,
        )
        forecast.tags.add(tags[number % 2])
        if number % 4:  # one forecast in four has no estimate
            EstimateFactory(
                forecast=forecast,
                probability=PROBABILITIES[number % len(PROBABILITIES)],
                basis="phrase",
                phrase=AWKWARD[(number + 1) % len(AWKWARD)][:100],
            )
            if number % 2:  # and a later one, which stands
                EstimateFactory(
                    forecast=forecast,
                    probability=PROBABILITIES[(number + 3) % len(PROBABILITIES)],
                    made_on=forecast.made_on + dt.timedelta(days=10),
                )
        if number % 3:  # resolved YES, NO or annulled
            ResolutionFactory(
                forecast=forecast,
                outcome=["YES", "NO", "ANNULLED"][number % 3],
                known_on=forecast.resolve_by,
                evidence_url=AWKWARD[(number + 2) % len(AWKWARD)],
            )
    # One forecast for every probability, resolved both ways, so every number is scored.
    for number, probability in enumerate(PROBABILITIES):
        forecast = ForecastFactory(estimate__probability=probability)
        ResolutionFactory(forecast=forecast, outcome="YES" if number % 2 else "NO")
    ForecastFactory(published_at=None, statement="=draft, never exported")
    return tags


def parse(chunks):
    data = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() for chunk in chunks)
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def assert_same_rows(copied, written):
    assert copied[0] == written[0] == exports.COLUMNS
    assert len(copied) == len(written)
    for copied_row, written_row in zip(copied[1:], written[1:], strict=True):
        assert len(copied_row) == len(written_row) == len(exports.COLUMNS)
        for column, copied_value, written_value in zip(
            exports.COLUMNS, copied_row, written_row, strict=True
        ):
            if column in NUMBER_COLUMNS and written_value:
                assert copied_value, (column, written_row)
                assert float(copied_value) == pytest.approx(
                    float(written_value), rel=0, abs=1e-9
                ), (column, written_row)
            else:
                assert copied_value == written_value, (column, written_row)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "open"},
        {"status": "due"},
        {"status": "resolved"},
        {"status": "annulled"},
        {"forecaster": "formula-pundit"},
        {"source": "plain-source", "status": "resolved"},
        {"tag": "tag-one"},
        {"tag": "tag-two", "forecaster": "zoe"},
        {"resolve_by_after": "2000-01-01", "resolve_by_before": "2100-01-01"},
        {"q": "100%"},
        {"q": "o'brien"},
        {"q": "ÜNÏCÖDÉ"},
        {"q": '"quoted"', "tag": "tag-one"},
        # (On PostgreSQL a search is full-text: "_", once a LIKE wildcard, is no word.)
        {"q": "-nothing"},
        # In the filters' order, however it is sorted (the COPY numbers its rows).
        {"sort": "-brier"},
        {"sort": "probability", "status": "resolved"},
        {"sort": "-made", "tag": "tag-one"},
        {"sort": "-deadline"},
        {"q": "event", "sort": "relevance"},
        {"tag": "no-such-tag"},
    ],
)
def test_copy_writes_the_rows_the_python_path_writes(awkward_record, params):
    require_postgresql("the export streams from COPY only there.")
    filters = ForecastFilters.model_validate(params)
    at = timezone.now()
    copied = parse(exports.copy_csv_chunks(at=at, filters=filters))
    written = parse(exports.csv_chunks(exports.forecast_public_export(at=at, filters=filters)))
    assert_same_rows(copied, written)
    if params.get("tag") != "no-such-tag":
        assert len(copied) > 1, "the filters should match some forecasts"
    if not params:
        assert len(copied) == 1 + Forecast.objects.published().count()
        statements = {row[1] for row in copied[1:]}
        # The guard did its work: every formula start is prefixed, the rest kept whole.
        for text in AWKWARD:
            leading = text.lstrip(exports.LEADING_SPACE)
            guarded = "'" + text if leading.startswith(exports.FORMULA_STARTS) else text
            assert guarded in statements
        assert "'-minus-slug" in {row[0] for row in copied}


def test_the_export_view_uses_copy_in_one_statement(client, awkward_record):
    require_postgresql("the export streams from COPY only there.")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/export/forecasts.csv", {"tag": "tag-one"})
        assert response.status_code == 200
        assert response.streaming
        copied = parse(response.streaming_content)
    assert [query["sql"][:5] for query in queries.captured_queries] == ["COPY "]
    written = parse(
        exports.csv_chunks(
            exports.forecast_public_export(
                at=timezone.now(), filters=ForecastFilters.model_validate({"tag": "tag-one"})
            )
        )
    )
    assert_same_rows(copied, written)
    assert len(copied) > 1


def test_copy_is_streamed_in_chunks(client, monkeypatch):
    require_postgresql("the export streams from COPY only there.")
    ForecastFactory.create_batch(30)
    monkeypatch.setattr(exports, "COPY_CHUNK_BYTES", 1_000)
    response = client.get("/export/forecasts.csv")
    chunks = list(response.streaming_content)
    total = sum(len(chunk) for chunk in chunks)
    # No chunk holds the whole export; each but the last is about a chunk's size.
    assert len(chunks) > 3
    assert all(len(chunk) < total / 2 for chunk in chunks)
    assert all(len(chunk) >= 1_000 for chunk in chunks[:-1])
    assert len(parse(chunks)) == 31


@pytest.mark.django_db(transaction=True)
def test_a_download_stopped_early_leaves_the_connection_usable(client, monkeypatch):
    require_postgresql("the export streams from COPY only there.")
    ForecastFactory.create_batch(30)
    monkeypatch.setattr(exports, "COPY_CHUNK_BYTES", 100)
    response = client.get("/export/forecasts.csv")
    chunks = iter(response.streaming_content)
    assert next(chunks).startswith(b"slug,statement,")
    response.close()  # what the server does when the reader goes away
    assert Forecast.objects.count() == 30


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"status": "draft"}, "status"),
        ({"resolve_by_after": "2020-02-30"}, "resolve_by_after"),
        ({"tag": "<script>"}, "tag"),
        ({"q": "\x00"}, "q"),
    ],
)
def test_bad_filters_are_still_a_400_message_before_any_copy(client, params, param):
    require_postgresql("the export streams from COPY only there.")
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/export/forecasts.csv", params)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().startswith("Bad query parameter.")
    assert f"{param}:" in response.content.decode()
    assert not any("COPY" in query["sql"] for query in queries.captured_queries)


def test_the_bare_copy_has_the_same_rows_without_the_additions(awkward_record):
    """The benchmark's floor (``bench_pages``) copies the same rows, unguarded."""
    require_postgresql("the export streams from COPY only there.")
    at = timezone.now()
    filters = ForecastFilters.model_validate({})
    sql, params = exports.export_copy_sql(at=at, filters=filters, bare=True)
    with connection.cursor() as cursor, cursor.cursor.copy(sql, params) as copy:
        bare = parse(bytes(data) for data in copy)
    copied = parse(exports.copy_csv_chunks(at=at, filters=filters))[1:]
    assert [row[0] for row in bare] == [row[0].removeprefix("'") for row in copied]
    assert len(bare[0]) == len(exports.EXPORT_FIELDS)


def test_empty_text_is_written_as_python_writes_it(awkward_record):
    """COPY quotes an empty text to tell it from NULL; the export writes both as nothing,
    as Python's csv does."""
    require_postgresql("the export streams from COPY only there.")
    # A numeric estimate has an empty phrase (text, not NULL).
    ForecastFactory(resolve_by=timezone.localdate() + dt.timedelta(days=9))
    at = timezone.now()
    filters = ForecastFilters.model_validate({"status": "open"})
    copied = b"".join(exports.copy_csv_chunks(at=at, filters=filters)).decode()
    assert ",," in copied  # open forecasts have no outcome, Brier or evidence
    assert ',"",' not in copied
