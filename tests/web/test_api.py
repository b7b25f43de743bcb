"""The read-only JSON API: content, filters, pagination, privacy, errors, schema, speed."""

import datetime as dt
import json
import re
from typing import get_args

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from openapi_spec_validator import validate

from forecasts.core import selectors as core_selectors
from forecasts.core import services as core_services
from forecasts.models import (
    Basis,
    DatePrecision,
    Forecast,
    Outcome,
    Resolution,
    ScopeKind,
    ScoreSnapshot,
    Tag,
)
from forecasts.scores import services as score_services
from forecasts.web import filters
from forecasts.web.api import schemas
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    SourceFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SEED_SOURCE = "seed-000-67102e3550562e4c"


def items(client, path="/api/forecasts", **params):
    response = client.get(path, params)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def slugs(client, **params):
    return [item["slug"] for item in items(client, limit=100, **params)]


def test_list_shows_every_seed_forecast_with_its_score(client, seeded):
    response = client.get("/api/forecasts")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = response.json()
    assert body["count"] == 13
    assert body["next"] is None
    assert body["previous"] is None
    by_slug = {item["slug"]: item for item in body["items"]}
    assert set(by_slug) == set(Forecast.objects.values_list("slug", flat=True))

    trump = by_slug["trump-wins-second-term"]
    assert trump["statement"] == "Donald Trump wins the 3 November 2020 U.S. presidential election."
    assert trump["quote"].startswith("At this point, Mr. Trump still appears poised")
    assert trump["source"] == {
        "key": SEED_SOURCE,
        "title": "U.S. and North Korea: Restart of talks, but to what end?",
        "url": "",
        "publisher": "",
    }
    assert trump["forecaster"] == {
        "slug": "seed-article-analyst",
        "name": "Unnamed analyst (seed article)",
    }
    assert trump["made_on"] == "2019-10-15"
    assert trump["made_on_precision"] == "month"
    assert trump["resolve_by"] == "2020-11-03"
    assert trump["status"] == "resolved"
    assert trump["probability"] == trump["published_probability"] == 0.65
    assert trump["basis"] == "phrase"
    assert trump["phrase"] == "appears poised"
    assert trump["negated"] is False
    assert trump["outcome"] == "NO"
    assert trump["known_on"] == "2020-11-07"
    assert trump["evidence_url"] == (
        "https://en.wikipedia.org/wiki/2020_United_States_presidential_election"
    )
    assert trump["brier"] == pytest.approx(0.65**2)
    assert trump["tags"] == [{"slug": "us-election-2020", "name": "U.S. election 2020"}]
    assert trump["url"] == "http://127.0.0.1:8000/forecasts/trump-wins-second-term/"

    due = by_slug["dprk-concessions-during-campaign"]
    assert due["status"] == "due"
    assert due["outcome"] is None
    assert due["known_on"] is None
    assert due["evidence_url"] is None
    assert due["brier"] is None
    # Soonest deadline first, like the list page.
    deadlines = [item["resolve_by"] for item in body["items"]]
    assert deadlines == sorted(deadlines)


def test_urls_are_built_from_site_url(client, seeded, settings):
    settings.SITE_URL = "https://forecasts.example.org"
    item = items(client, limit=1)[0]
    assert item["url"] == f"https://forecasts.example.org/forecasts/{item['slug']}/"
    assert (
        client.get("/api/forecasts", {"limit": 1})
        .json()["next"]
        .startswith("https://forecasts.example.org/api/forecasts?")
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "due"}, lambda f: f.filter(slug__in=DUE_SEED)),
        ({"status": "resolved"}, lambda f: f.resolved()),
        ({"status": "annulled"}, lambda f: f.annulled()),
        ({"status": "open"}, lambda f: f.none()),
        ({"forecaster": "seed-article-analyst"}, lambda f: f),
        ({"forecaster": "someone-else"}, lambda f: f.none()),
        ({"source": SEED_SOURCE}, lambda f: f),
        ({"source": "another-source"}, lambda f: f.none()),
        ({"tag": "denuclearization"}, lambda f: f.filter(tags__slug="denuclearization")),
        ({"tag": "state-department"}, lambda f: f.filter(tags__slug="state-department")),
        ({"resolve_by_after": "2020-11-03"}, lambda f: f.filter(resolve_by__gte="2020-11-03")),
        ({"resolve_by_before": "2020-11-03"}, lambda f: f.filter(resolve_by__lte="2020-11-03")),
        (
            {"resolve_by_after": "2020-06-01", "resolve_by_before": "2020-12-31"},
            lambda f: f.filter(resolve_by__range=("2020-06-01", "2020-12-31")),
        ),
        ({"q": "biegun"}, lambda f: f.filter(statement__icontains="Biegun")),
        ({"q": "DENUCLEARIZATION"}, lambda f: f.filter(statement__icontains="denuclearization")),
        (
            {"tag": "north-korea", "status": "resolved", "q": "Kim"},
            lambda f: f.resolved().filter(tags__slug="north-korea", statement__contains="Kim"),
        ),
        ({"q": ""}, lambda f: f),
    ],
)
def test_filters(client, seeded, params, expected):
    wanted = set(expected(Forecast.objects.published()).values_list("slug", flat=True))
    found = slugs(client, **params)
    assert set(found) == wanted
    assert len(found) == len(wanted)
    assert client.get("/api/forecasts", params).json()["count"] == len(wanted)


DUE_SEED = {
    "north-korea-deal-sways-reelection",
    "state-department-changes-shift-stance",
    "dprk-concessions-during-campaign",
}


def test_filters_pick_out_seed_forecasts(client, seeded):
    assert set(slugs(client, status="due")) == DUE_SEED
    assert "trump-wins-second-term" not in slugs(client, tag="north-korea")
    assert slugs(client, q="DONALD TRUMP WINS", status="resolved") == ["trump-wins-second-term"]
    # Both ends of the deadline range are inclusive.
    assert "trump-wins-second-term" in slugs(client, resolve_by_after="2020-11-03")
    assert "trump-wins-second-term" in slugs(client, resolve_by_before="2020-11-03")
    assert "trump-wins-second-term" not in slugs(client, resolve_by_after="2020-11-04")


def test_pagination_walks_every_forecast_once(client, seeded):
    first = client.get("/api/forecasts", {"limit": 5, "status": "resolved"}).json()
    assert first["count"] == 10
    assert (first["limit"], first["offset"], first["previous"]) == (5, 0, None)
    assert len(first["items"]) == 5
    assert "status=resolved" in first["next"]
    assert "offset=5" in first["next"]

    second = client.get(first["next"]).json()
    assert len(second["items"]) == 5
    assert second["next"] is None
    assert "offset=0" in second["previous"]
    walked = [item["slug"] for item in first["items"] + second["items"]]
    assert walked == slugs(client, status="resolved")
    assert len(set(walked)) == 10

    beyond = client.get("/api/forecasts", {"offset": 500}).json()
    assert beyond["count"] == 13
    assert beyond["items"] == []


def test_detail_has_estimate_and_resolution_history(client, seeded):
    response = client.get("/api/forecasts/trump-wins-second-term")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved"
    assert body["brier"] == pytest.approx(0.4225)
    assert body["resolution_criteria"].startswith("YES if Donald Trump wins")
    assert body["estimates"] == [
        {
            "made_on": "2019-10-15",
            "probability": 0.65,
            "low": 0.55,
            "high": 0.8,
            "basis": "phrase",
            "phrase": "appears poised",
            "negated": False,
            "note": "",
        }
    ]
    [resolution] = body["resolutions"]
    assert resolution["outcome"] == "NO"
    assert resolution["known_on"] == "2020-11-07"
    assert resolution["is_current"] is True
    assert resolution["correction_reason"] == ""
    assert "Biden" in resolution["evidence_note"]


@pytest.fixture
def resolver():
    return UserFactory(
        username="zelda-resolver-7731",
        email="zelda.private@reviewers.example.net",
        first_name="Zelda",
        last_name="Quartermaine",
        is_staff=True,
        is_superuser=True,
    )


@pytest.fixture
def corrected(resolver):
    """A forecast resolved, corrected and re-estimated by an identifiable person."""
    forecast = ForecastFactory(
        slug="rates-fall",
        statement="Rates fall by June.",
        made_on=dt.date(2024, 1, 10),
        resolve_by=dt.date(2024, 6, 30),
        estimate__probability=0.3,
        estimate__recorded_by=resolver,
    )
    EstimateFactory(forecast=forecast, probability=0.6, made_on=dt.date(2024, 3, 1))
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="NO",
        known_on=dt.date(2024, 6, 30),
        resolved_by=resolver,
        evidence_url="https://news.example.org/rates-held",
    )
    core_services.forecast_resolve(
        forecast=forecast,
        outcome="YES",
        known_on=dt.date(2024, 6, 28),
        resolved_by=resolver,
        evidence_url="https://news.example.org/rates-cut",
        note="The cut was announced two days before the deadline.",
        correction_reason="The first resolution missed the announcement.",
    )
    return forecast


def test_responses_are_cached_until_a_resolution_changes_them(
    client, seeded, django_assert_num_queries, django_capture_on_commit_callbacks
):
    paths = ["/api/forecasts?status=due", "/api/forecasts/dprk-concessions-during-campaign"]
    for path in paths:
        first = client.get(path)
        assert "public" in first["Cache-Control"]
        with django_assert_num_queries(0):
            assert client.get(path).content == first.content
    forecast = Forecast.objects.get(slug="dprk-concessions-during-campaign")
    with django_capture_on_commit_callbacks(execute=True):
        core_services.forecast_resolve(
            forecast=forecast, outcome="NO", known_on=dt.date(2020, 11, 4), note="None offered."
        )
    assert "dprk-concessions-during-campaign" not in slugs(client, status="due")
    detail = client.get(paths[1]).json()
    assert (detail["status"], detail["outcome"]) == ("resolved", "NO")


def test_detail_shows_corrections_newest_first(client, corrected):
    body = client.get("/api/forecasts/rates-fall").json()
    assert [e["probability"] for e in body["estimates"]] == [0.3, 0.6]
    assert body["probability"] == 0.6
    assert body["published_probability"] == 0.3
    assert body["basis"] == "number"
    assert body["outcome"] == "YES"
    assert body["known_on"] == "2024-06-28"
    assert body["brier"] == pytest.approx(0.49)
    assert body["time_averaged_brier"] is not None
    current, earlier = body["resolutions"]
    assert (current["outcome"], current["is_current"]) == ("YES", True)
    assert current["correction_reason"] == "The first resolution missed the announcement."
    assert current["evidence_url"] == "https://news.example.org/rates-cut"
    assert (earlier["outcome"], earlier["is_current"]) == ("NO", False)
    assert set(current) == {
        "outcome",
        "known_on",
        "evidence_url",
        "evidence_note",
        "correction_reason",
        "resolved_at",
        "is_current",
    }


def test_no_resolver_identity_anywhere_in_the_api(client, corrected, resolver):
    score_services.scores_snapshot(as_of=dt.date(2024, 7, 1))
    draft = ForecastFactory(published_at=None)
    core_services.forecast_extend(
        forecast=ForecastFactory(resolve_by=dt.date(2031, 1, 1)),
        new_resolve_by=dt.date(2032, 1, 1),
        reason="Not yet knowable.",
        extended_by=resolver,
    )
    assert Resolution.objects.filter(resolved_by=resolver).count() == 2
    paths = [
        "/api/forecasts",
        "/api/forecasts/rates-fall",
        f"/api/forecasts/{Forecast.objects.exclude(pk=draft.pk).last().slug}",
        "/api/forecasters",
        "/api/sources",
        "/api/scores",
        "/api/snapshots",
        "/api/openapi.json",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        text = response.content.decode()
        for secret in ("zelda", "Quartermaine", "reviewers.example", "resolved_by", "@"):
            assert secret.lower() not in text.lower(), (path, secret)


def test_drafts_never_appear(client, seeded):
    draft = ForecastFactory(
        published_at=None,
        slug="secret-draft",
        statement="Secret draft statement",
        forecaster=ForecasterFactory(slug="draft-only-pundit", name="Draft-only pundit"),
        source=SourceFactory(key="draft-only-source", title="Draft-only source"),
    )
    ResolutionFactory(forecast=draft)

    assert client.get("/api/forecasts/secret-draft").status_code == 404
    assert client.get("/api/forecasts/secret-draft").json() == {"detail": "Not Found"}
    for path in ("/api/forecasts", "/api/forecasters", "/api/sources"):
        text = client.get(path, {"limit": 100}).content.decode()
        assert "secret-draft" not in text
        assert "Draft-only" not in text
    assert client.get("/api/forecasts", {"forecaster": "draft-only-pundit"}).json()["count"] == 0
    assert client.get("/api/forecasts", {"source": "draft-only-source"}).json()["count"] == 0
    assert client.get("/api/forecasts", {"status": "draft"}).status_code == 400


def test_forecasters_and_sources(client, seeded):
    other = ForecastFactory(forecaster__name="Another pundit", source__title="Another piece")
    forecasters = items(client, "/api/forecasters")
    assert [f["name"] for f in forecasters] == ["Another pundit", "Unnamed analyst (seed article)"]
    seed = forecasters[1]
    assert seed["slug"] == "seed-article-analyst"
    assert seed["kind"] == "person"
    assert seed["forecast_count"] == 13

    sources = items(client, "/api/sources")
    assert [s["key"] for s in sources] == [other.source.key, SEED_SOURCE]
    assert sources[1]["forecast_count"] == 13
    assert sources[1]["published_on"] == "2019-10-15"
    assert sources[1]["published_precision"] == "month"
    assert "text" not in sources[1]

    page = client.get("/api/forecasters", {"limit": 1, "offset": 1}).json()
    assert page["count"] == 2
    assert [f["slug"] for f in page["items"]] == ["seed-article-analyst"]


def test_scores_show_the_latest_snapshot_of_every_scope(
    client, seeded, django_capture_on_commit_callbacks
):
    # The seed's resolutions were scored as they were recorded (today).
    today = timezone.localdate()
    live = client.get("/api/scores").json()
    assert (live["as_of"], live["items"][0]["resolved_count"]) == (today.isoformat(), 10)
    # A new snapshot invalidates the cached response.
    with django_capture_on_commit_callbacks(execute=True):
        score_services.scores_snapshot(as_of=today - dt.timedelta(days=180))
        score_services.scores_snapshot(as_of=today)

    body = client.get("/api/scores").json()
    assert body["as_of"] == today.isoformat()
    kinds = [item["kind"] for item in body["items"]]
    assert kinds == sorted(kinds, key=["all", "forecaster", "source", "tag"].index)
    everything = body["items"][0]
    assert (everything["kind"], everything["id"], everything["name"]) == ("all", 0, "Everything")
    stored = ScoreSnapshot.objects.get(scope_kind="all", as_of=today)
    assert everything["resolved_count"] == stored.resolved_count == 10
    assert everything["brier"] == pytest.approx(stored.brier)
    for field in (
        "shrunk_brier",
        "time_averaged_brier",
        "log_loss",
        "skill_vs_coin",
        "skill_vs_base_rate",
    ):
        assert everything[field] == pytest.approx(getattr(stored, field)), field
    assert everything["calibration"] == stored.calibration
    assert len(everything["calibration"]) == 10
    assert everything["murphy"] == stored.murphy
    analyst = next(item for item in body["items"] if item["kind"] == "forecaster")
    assert (analyst["slug"], analyst["name"]) == (
        "seed-article-analyst",
        "Unnamed analyst (seed article)",
    )
    assert body["count"] == len(body["items"]) == ScoreSnapshot.objects.filter(as_of=today).count()
    tags = client.get("/api/scores", {"kind": "tag"}).json()["items"]
    assert {item["kind"] for item in tags} == {"tag"}
    second = client.get("/api/scores", {"kind": "tag", "limit": 2, "offset": 2}).json()
    assert second["items"] == tags[2:4]
    assert second["count"] == len(tags)
    assert second["previous"] is not None
    assert "north-korea" in {item["slug"] for item in tags}
    # As the tags' leaderboard: the ranked best first, then the too few to rank.
    ranked = [item for item in tags if item["ranked"]]
    too_few = [item for item in tags if not item["ranked"]]
    assert ranked
    assert too_few
    assert tags == ranked + too_few
    shrunk = [item["shrunk_brier"] for item in ranked]
    assert shrunk == sorted(shrunk)
    assert [item["rank"] for item in ranked] == list(range(1, len(ranked) + 1))
    assert {item["resolved_count"] >= 5 for item in ranked} == {True}
    assert {(item["rank"], item["resolved_count"] < 5) for item in too_few} == {(None, True)}
    counts = [item["resolved_count"] for item in too_few]
    assert counts == sorted(counts, reverse=True)
    assert (everything["ranked"], everything["rank"]) == (False, None)


def test_snapshots_are_a_scope_history_newest_first(client, seeded, time_machine):
    loaded = timezone.localdate()  # the seed's outcomes were recorded today
    score_services.scores_snapshot(as_of=loaded)
    time_machine.move_to(timezone.now() + dt.timedelta(days=7))
    core_services.forecast_resolve(
        forecast=Forecast.objects.due(at=timezone.now()).order_by("pk").first(),
        outcome="NO",
        known_on=timezone.localdate(),
        note="Resolved a week after the seed was loaded.",
    )
    later = timezone.localdate()
    score_services.scores_snapshot(as_of=later)
    body = client.get("/api/snapshots").json()
    assert body["scope"] == {"kind": "all", "id": 0, "slug": "", "name": "Everything"}
    assert body["count"] == 2
    assert [s["as_of"] for s in body["items"]] == [later.isoformat(), loaded.isoformat()]
    assert body["items"][1]["resolved_count"] < body["items"][0]["resolved_count"]

    forecaster_id = items(client, "/api/forecasters")[0]["id"]
    mine = client.get(
        "/api/snapshots", {"scope_kind": "forecaster", "scope_id": forecaster_id, "limit": 1}
    ).json()
    assert mine["scope"]["slug"] == "seed-article-analyst"
    assert [s["as_of"] for s in mine["items"]] == [later.isoformat()]
    assert "offset=1" in mine["next"]

    missing = client.get("/api/snapshots", {"scope_kind": "tag", "scope_id": 999_999})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No tag with id 999999."}


def test_phrases_say_how_often_each_phrase_came_true(client, seeded):
    score_services.scores_snapshot(as_of=dt.date(2021, 6, 30))
    body = client.get("/api/phrases").json()
    assert body["scope"] == {"kind": "all", "id": 0, "slug": "", "name": "Everything"}
    rows = {row["phrase"]: row for row in body["items"]}
    # Independently: the two resolved forecasts first worded "unlikely" (full
    # denuclearization first; denuclearization in the short term) both came out NO.
    unlikely = Forecast.objects.filter(
        estimates__phrase="unlikely", resolutions__is_current=True
    ).distinct()
    assert unlikely.count() == 2
    assert {f.current_resolution().outcome for f in unlikely} == {"NO"}
    assert (rows["unlikely"]["count"], rows["unlikely"]["happened"]) == (2, 0)
    assert rows["unlikely"]["interval_low"] == 0
    assert 0 < rows["unlikely"]["interval_high"] < 1
    assert [row["count"] for row in body["items"]] == sorted(
        (row["count"] for row in body["items"]), reverse=True
    )

    tag = Tag.objects.get(slug="state-department")
    mine = client.get("/api/phrases", {"scope_kind": "tag", "scope_id": tag.pk}).json()
    assert mine["scope"]["slug"] == "state-department"
    tagged = {f.estimates.order_by("made_on", "pk").first().phrase for f in tag.forecasts.all()}
    assert {row["phrase"] for row in mine["items"]} <= tagged
    assert sum(row["count"] for row in mine["items"]) < sum(rows[p]["count"] for p in rows)

    missing = client.get("/api/phrases", {"scope_kind": "source", "scope_id": 999_999})
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No source with id 999999."}
    assert client.get("/api/phrases", {"scope_kind": "nation"}).status_code == 400


@pytest.mark.parametrize(
    ("path", "params", "param"),
    [
        ("/api/forecasts", {"status": "pending"}, "status"),
        ("/api/forecasts", {"status": "draft"}, "status"),
        ("/api/forecasts", {"resolve_by_after": "2020-13-01"}, "resolve_by_after"),
        ("/api/forecasts", {"resolve_by_after": "yesterday"}, "resolve_by_after"),
        ("/api/forecasts", {"resolve_by_before": "20200101"}, "resolve_by_before"),
        ("/api/forecasts", {"resolve_by_before": "1700000000"}, "resolve_by_before"),
        ("/api/forecasts", {"limit": "0"}, "limit"),
        ("/api/forecasts", {"limit": "101"}, "limit"),
        ("/api/forecasts", {"limit": "ten"}, "limit"),
        ("/api/forecasts", {"offset": "-1"}, "offset"),
        ("/api/forecasts", {"offset": str(2**70)}, "offset"),
        ("/api/forecasts", {"q": "nul\x00byte"}, "q"),
        ("/api/forecasts", {"q": "x" * 201}, "q"),
        ("/api/forecasts", {"tag": "not a slug"}, "tag"),
        ("/api/forecasts", {"tag": ""}, "tag"),
        ("/api/forecasts", {"status": ""}, "status"),
        ("/api/forecasts", {"resolve_by_after": ""}, "resolve_by_after"),
        ("/api/forecasts/not%20a%20slug", {}, "slug"),
        ("/api/forecasters", {"limit": "1000"}, "limit"),
        ("/api/sources", {"offset": "x"}, "offset"),
        ("/api/scores", {"kind": "everyone"}, "kind"),
        ("/api/snapshots", {"scope_kind": "people"}, "scope_kind"),
        ("/api/snapshots", {"scope_kind": "tag", "scope_id": "-3"}, "scope_id"),
        ("/api/snapshots", {"scope_kind": "tag", "scope_id": str(2**64)}, "scope_id"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(client, path, params, param):
    response = client.get(path, params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["detail"].startswith("Bad query parameter.")
    assert f"{param}:" in body["detail"]
    assert [error["param"] for error in body["errors"]] == [param]


def test_a_scope_id_must_match_its_kind(client, seeded):
    for params in ({"scope_kind": "all", "scope_id": 3}, {"scope_kind": "forecaster"}):
        response = client.get("/api/snapshots", params)
        assert response.status_code == 404
        assert response.json()["detail"].startswith("No ")


def test_schema_enums_are_the_models_choices():
    assert list(get_args(filters.PublicStatus)) == core_selectors.PUBLIC_STATUSES
    assert list(get_args(schemas.OutcomeValue)) == Outcome.values
    assert list(get_args(schemas.Precision)) == DatePrecision.values
    assert list(get_args(schemas.BasisValue)) == Basis.values
    assert list(get_args(schemas.ScopeKindValue)) == ScopeKind.values


def test_openapi_schema_is_valid_json(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    schema = json.loads(response.content)
    validate(schema)
    assert schema["info"]["title"] == "Forecast tracker API"
    assert set(schema["paths"]) == {
        "/api/forecasts",
        "/api/forecasts/{slug}",
        "/api/forecasters",
        "/api/sources",
        "/api/scores",
        "/api/snapshots",
        "/api/phrases",
        "/api/ledger",
        "/api/ledger/head",
    }
    for path, operations in schema["paths"].items():
        assert set(operations) == {"get"}, path
        assert "400" in operations["get"]["responses"], path
    item = schema["components"]["schemas"]["ResolutionOut"]["properties"]
    assert "resolved_by" not in item


def test_docs_use_the_bundled_swagger_ui(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert html.count("<h1>") == 1
    assert "/api/openapi.json" in html
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert not re.match(r"(https?:)?//", asset), asset
        assert client.get(asset).status_code == 200, asset
    assert not re.search(r"<script[^>]+src=\"(https?:)?//", html)
    # Swagger UI would otherwise load a validator badge from validator.swagger.io.
    assert '"validatorUrl": null' in html


def _varied_forecasts(count):
    """Forecasts with one to three tags, two estimates, half of them resolved; two snapshots."""
    tags = TagFactory.create_batch(3)
    for number in range(count):
        forecast = ForecastFactory(resolve_by=dt.date(2024, 6, 30))
        forecast.tags.set(tags[: 1 + number % 3])
        EstimateFactory(forecast=forecast, probability=0.4, made_on=dt.date(2024, 2, 1))
        if number % 2:
            ResolutionFactory(forecast=forecast, outcome="YES" if number % 4 == 1 else "NO")
    score_services.scores_snapshot(as_of=dt.date(2024, 7, 1))
    score_services.scores_snapshot(as_of=dt.date(2024, 7, 2))
    return tags


@pytest.mark.parametrize("count", [5, 50])
@pytest.mark.parametrize(
    ("path", "queries"),
    [
        ("/api/forecasts?limit=100", 4),
        ("/api/forecasts?limit=100&offset=1&tag={tag}&status=resolved&q=Event", 4),
        ("/api/forecasters?limit=100", 2),
        ("/api/sources?limit=100", 2),
        ("/api/scores", 5),
        ("/api/snapshots?limit=100", 2),
    ],
)
def test_query_count_does_not_grow_with_data(
    client, django_assert_max_num_queries, count, path, queries
):
    tags = _varied_forecasts(count)
    with django_assert_max_num_queries(queries):
        response = client.get(path.format(tag=tags[0].slug))
    assert response.status_code == 200
    assert response.json()["items"]


@pytest.mark.parametrize("count", [5, 50])
def test_detail_query_count_does_not_grow_with_history(
    client, django_assert_max_num_queries, count
):
    forecast = ForecastFactory(made_on=dt.date(2024, 1, 1), resolve_by=dt.date(2024, 12, 31))
    forecast.tags.set(TagFactory.create_batch(count // 5))
    for day in range(count):
        EstimateFactory(forecast=forecast, made_on=dt.date(2024, 1, 2) + dt.timedelta(days=day))
    for number in range(count // 5):
        # Resolved, then corrected: each correction supersedes the current resolution.
        core_services.forecast_resolve(
            forecast=forecast,
            outcome="YES" if number % 2 else "NO",
            known_on=forecast.resolve_by,
            note="Reported.",
            correction_reason="Corrected." if number else "",
        )
    with django_assert_max_num_queries(5):
        response = client.get(f"/api/forecasts/{forecast.slug}")
    assert len(response.json()["estimates"]) == count + 1


# --- Property-based: schemathesis against the served schema ------------------------------


def _served_schema():
    from tracker.wsgi import application

    # Loaded when the module is collected: the schema needs no database. (The lazy
    # ``schemathesis.pytest.from_fixture`` does not work with pytest 9.)
    return schemathesis.openapi.from_wsgi("/api/openapi.json", application)


schema = _served_schema()


@pytest.fixture
def api_data(seeded):
    score_services.scores_snapshot(as_of=dt.date(2021, 6, 30))
    ForecastFactory(published_at=None, slug="a-draft")
    # The real WSGI handler closes the connection after each request when it is inside
    # a transaction: the test's own. Django's test client stops it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_has_no_server_errors_and_keeps_to_its_schema(case, api_data):
    response = case.call()
    assert response.status_code < 500, response.text
    case.validate_response(response)
