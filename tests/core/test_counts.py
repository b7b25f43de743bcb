"""The forecast's current outcome and the stored state counts (migration 0015): kept exact
by the database through every door, guarded, and read by the lifecycle selectors, which
must agree with a recomputation from the resolutions themselves."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from forecasts.core import selectors, services
from forecasts.core.counts import (
    ForecastStateCount,
    PublishedTagListing,
    UnresolvedDeadlineCount,
    counts_recount,
    counts_stored,
    published_scope_count,
    tag_listings_derived,
    tag_listings_stored,
)
from forecasts.core.ledger.verify import LedgerMismatch, ledger_verify
from forecasts.core.models import Forecast, Outcome, Resolution, Status
from forecasts.core.permits import refusal_message
from forecasts.devtools.synthetic import synthetic_clear, synthetic_generate
from tests.conftest import require_postgresql
from tests.factories import (
    EstimateFactory,
    ForecasterFactory,
    ForecastFactory,
    ResolutionFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

migration = importlib.import_module("forecasts.migrations.0015_forecast_current_outcome")
listing_migration = importlib.import_module("forecasts.migrations.0016_tag_listing")

NOW = dt.datetime(2026, 6, 15, 12, tzinfo=dt.UTC)
TODAY = dt.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def _varied() -> dict[str, Forecast]:
    """One forecast in each state and by each way of getting there."""
    made = dt.date(2025, 1, 10)

    def forecast(slug: str, resolve_by: dt.date, **extra: object) -> Forecast:
        return ForecastFactory(slug=slug, made_on=made, resolve_by=resolve_by, **extra)

    rows = {
        "draft": forecast("draft", dt.date(2025, 6, 1), published_at=None, estimate=None),
        "open": forecast("open", dt.date(2026, 9, 1)),
        "open-today": forecast("open-today", TODAY),
        "due": forecast("due", dt.date(2026, 1, 5)),
        "due-same-day": forecast("due-same-day", dt.date(2026, 1, 5)),
        "yes": forecast("yes", dt.date(2025, 12, 1)),
        "no": forecast("no", dt.date(2025, 12, 1)),
        "annulled": forecast("annulled", dt.date(2025, 12, 1)),
        "corrected": forecast("corrected", dt.date(2025, 11, 1)),
        "annulled-then-no": forecast("annulled-then-no", dt.date(2025, 11, 1)),
        "extended": forecast("extended", dt.date(2026, 2, 1)),
        "early": forecast("early", dt.date(2026, 12, 1)),  # resolved before its deadline
    }
    for slug, outcome in [("yes", "YES"), ("no", "NO"), ("annulled", "ANNULLED")]:
        services.forecast_resolve(
            forecast=rows[slug], outcome=outcome, known_on=dt.date(2025, 12, 2), note="Seen."
        )
    for slug, first, then in [("corrected", "YES", "NO"), ("annulled-then-no", "ANNULLED", "NO")]:
        services.forecast_resolve(
            forecast=rows[slug], outcome=first, known_on=dt.date(2025, 11, 2), note="Seen."
        )
        services.forecast_resolve(
            forecast=rows[slug],
            outcome=then,
            known_on=dt.date(2025, 11, 3),
            note="Seen again.",
            correction_reason="The first report was wrong.",
        )
    services.forecast_extend(
        forecast=rows["extended"],
        new_resolve_by=dt.date(2026, 8, 1),
        reason="Not yet knowable.",
        extended_by=None,
    )
    services.forecast_resolve(
        forecast=rows["early"], outcome="YES", known_on=dt.date(2026, 3, 1), note="Early."
    )
    return rows


def _recomputed_states() -> dict[str, str]:
    """Each forecast's state from its rows and its current resolution, without
    current_outcome or the lifecycle queryset."""
    current = dict(Resolution.objects.filter(is_current=True).values_list("forecast_id", "outcome"))
    states = {}
    for forecast in Forecast.objects.all():
        outcome = current.get(forecast.pk)
        if forecast.published_at is None:
            state = Status.DRAFT
        elif outcome == Outcome.ANNULLED:
            state = Status.ANNULLED
        elif outcome is not None:
            state = Status.RESOLVED
        elif forecast.resolve_by < TODAY:
            state = Status.DUE
        else:
            state = Status.OPEN
        states[forecast.slug] = str(state)
    return states


def _assert_counts_exact() -> None:
    assert counts_stored() == counts_recount()
    assert tag_listings_stored() == tag_listings_derived()
    states = _recomputed_states()
    by_state = {state: list(states.values()).count(state) for state in Status.values}
    assert selectors.forecast_status_counts(at=NOW) == by_state
    for status in selectors.PUBLIC_STATUSES:
        assert selectors.forecast_public_count(at=NOW, status=status) == by_state[status]
    assert selectors.forecast_public_count(at=NOW) == len(states) - by_state[Status.DRAFT]


def test_the_current_outcome_follows_every_resolution_and_correction():
    rows = _varied()
    current = dict(Resolution.objects.filter(is_current=True).values_list("forecast_id", "outcome"))
    for forecast in Forecast.objects.all():
        assert forecast.current_outcome == current.get(forecast.pk), forecast.slug
    assert Forecast.objects.get(slug="corrected").current_outcome == "NO"
    assert Forecast.objects.get(slug="annulled-then-no").current_outcome == "NO"
    assert rows["early"].current_outcome == "YES"  # the service's copy follows too


def test_the_lifecycle_states_agree_with_a_recomputation_from_the_resolutions():
    _varied()
    states = _recomputed_states()
    for status in Status.values:
        listed = set(Forecast.objects.with_state(status, at=NOW).values_list("slug", flat=True))
        assert listed == {slug for slug, state in states.items() if state == status}, status
    annotated = dict(Forecast.objects.with_status(at=NOW).values_list("slug", "status"))
    assert annotated == states
    _assert_counts_exact()


def test_awaiting_coming_and_recent_lists_agree_with_a_recomputation():
    _varied()
    states = _recomputed_states()
    by_deadline = sorted(Forecast.objects.all(), key=lambda f: (f.resolve_by, f.pk))
    due = [f.slug for f in by_deadline if states[f.slug] == Status.DUE]
    open_ = [f.slug for f in by_deadline if states[f.slug] == Status.OPEN]
    assert [f.slug for f, _ in selectors.awaiting_verdict(at=NOW)] == due
    assert [f.slug for f, _ in selectors.coming_due(at=NOW)] == open_
    assert [days for _, days in selectors.awaiting_verdict(at=NOW)] == [161, 161]
    recent = sorted(
        Resolution.objects.filter(is_current=True), key=lambda r: (r.resolved_at, r.pk)
    )[::-1]
    assert [r.pk for r in selectors.recently_resolved()] == [r.pk for r in recent]
    assert selectors.recently_resolved(limit=2) == selectors.recently_resolved()[:2]


def test_counts_stay_exact_through_the_services_and_direct_inserts():
    _assert_counts_exact()  # empty
    rows = _varied()
    _assert_counts_exact()
    # Publishing a draft, a resolution written by a factory (no service), a new draft.
    services.forecasts_publish(forecasts=Forecast.objects.filter(pk=rows["draft"].pk))
    ResolutionFactory(forecast=rows["due"], outcome="NO")
    ForecastFactory(slug="another-draft", published_at=None)
    _assert_counts_exact()
    assert Forecast.objects.get(slug="due").current_outcome == "NO"
    # Deleting a draft goes through the forecasts' delete trigger.
    services.forecast_delete(forecast=Forecast.objects.get(slug="another-draft"))
    _assert_counts_exact()


def test_the_day_moves_forecasts_from_open_to_due_without_a_write(time_machine):
    _varied()
    later = dt.datetime(2026, 8, 2, 12, tzinfo=dt.UTC)
    counts = selectors.forecast_status_counts(at=later)
    # open-today (June 15) and extended (August 1) are now past their deadlines.
    assert (counts["due"], counts["open"]) == (4, 1)


def test_counts_stay_exact_through_a_bulk_insert_and_delete_of_synthetic_rows():
    _varied()
    report = synthetic_generate(
        forecasts=300, estimates=600, forecasters=4, sources=3, tags=3, batch_size=70, today=TODAY
    )
    assert report.resolutions > 100
    _assert_counts_exact()
    synthetic = Forecast.objects.filter(synthetic=True)
    assert synthetic.filter(current_outcome__isnull=False).count() == report.resolutions
    assert synthetic_clear(batch_size=90) == 300
    _assert_counts_exact()
    assert counts_stored()[:2] == (
        {"draft": 1, "unresolved": 5, "resolved": 5, "annulled": 1},
        {
            dt.date(2026, 1, 5): 2,
            TODAY: 1,
            dt.date(2026, 8, 1): 1,
            dt.date(2026, 9, 1): 1,
        },
    )


def _refused(write) -> str:
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return refusal_message(caught.value) or ""


def test_the_current_outcome_cannot_be_written_around_the_resolutions():
    rows = _varied()
    unresolved = Forecast.objects.filter(pk=rows["due"].pk)
    resolved = Forecast.objects.filter(pk=rows["yes"].pk)
    for write in (
        lambda: unresolved.update(current_outcome="YES"),
        lambda: resolved.update(current_outcome="NO"),
        lambda: resolved.update(current_outcome=None),
        lambda: ForecastFactory(slug="born-resolved", current_outcome="YES"),
    ):
        assert "current outcome is its current resolution" in _refused(write)
    # Writing the value it already has (a full save of a fresh row) passes.
    fresh = Forecast.objects.get(pk=rows["yes"].pk)
    fresh.save()
    _assert_counts_exact()


def test_the_counts_refuse_to_go_negative():
    # A count that lost a row is an error at the next write, never a page saying -1.
    ForecastFactory(slug="counted", published_at=None)
    ForecastStateCount.objects.filter(state="draft").update(count=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Forecast.objects.filter(slug="counted").update(published_at=timezone.now())


def test_the_triggers_are_installed():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        installed = {row[0] for row in cursor.fetchall()}
    assert set(migration.TRIGGER_NAMES[connection.vendor]) <= installed
    assert set(listing_migration.TRIGGER_NAMES[connection.vendor]) <= installed


def test_verify_ledger_finds_a_stored_count_that_is_wrong(seeded):
    ledger_verify()
    UnresolvedDeadlineCount.objects.filter(
        resolve_by=UnresolvedDeadlineCount.objects.order_by("resolve_by").values("resolve_by")[:1]
    ).update(count=F("count") + 1)
    with pytest.raises(LedgerMismatch, match="unresolved forecasts by deadline"):
        ledger_verify()


def test_an_estimate_does_not_move_the_counts():
    forecast = ForecastFactory(made_on=dt.date(2026, 1, 1), resolve_by=dt.date(2026, 12, 1))
    before = counts_stored()
    EstimateFactory(forecast=forecast, made_on=TODAY)
    assert counts_stored() == before


def test_scope_counts_follow_tags_publication_amendments_and_deletion():
    rows = _varied()
    first, second = TagFactory(slug="first"), TagFactory(slug="second")
    rows["open"].tags.set([first, second])  # tags of a published forecast change freely
    rows["due"].tags.set([first])
    rows["draft"].tags.set([first, second])  # a draft counts nowhere
    _assert_counts_exact()
    assert (published_scope_count("tag", first.pk), published_scope_count("tag", second.pk)) == (
        2,
        1,
    )
    rows["open"].tags.remove(second)
    services.forecasts_publish(forecasts=Forecast.objects.filter(pk=rows["draft"].pk))
    _assert_counts_exact()
    assert published_scope_count("tag", first.pk) == 3
    assert published_scope_count("tag", second.pk) == 1
    editor = UserFactory(username="editor", is_superuser=True, is_staff=True)
    moved_to, moved_from = ForecasterFactory(slug="moved-to"), rows["open"].forecaster_id
    services.forecast_amend(
        forecast=rows["open"],
        changes={"forecaster": moved_to},
        reason="Misattributed.",
        amended_by=editor,
    )
    _assert_counts_exact()
    assert published_scope_count("forecaster", moved_to.pk) == 1
    assert published_scope_count("forecaster", moved_from) == 0
    # A draft deleted with its tags, a synthetic batch written and cleared.
    draft = ForecastFactory(slug="gone", published_at=None)
    draft.tags.set([first])
    services.forecast_delete(forecast=draft)
    synthetic_generate(
        forecasts=120, estimates=240, forecasters=2, sources=2, tags=4, batch_size=50, today=TODAY
    )
    _assert_counts_exact()
    synthetic_clear(batch_size=35)
    _assert_counts_exact()
    assert published_scope_count("tag", first.pk) == 3
    with pytest.raises(ValueError, match="Unknown scope kind"):
        published_scope_count("all", 0)


def test_the_tag_listing_follows_links_publication_and_extensions():
    """Each published forecast under each of its tags, with its deadline as it stands."""
    tag, other = TagFactory(slug="listed"), TagFactory(slug="other")
    draft = ForecastFactory(slug="draft", published_at=None, resolve_by=dt.date(2026, 9, 1))
    shown = ForecastFactory(
        slug="shown", made_on=dt.date(2026, 1, 1), resolve_by=dt.date(2026, 7, 1)
    )
    draft.tags.set([tag])
    shown.tags.set([tag, other])
    assert tag_listings_stored() == {
        (tag.pk, shown.pk, dt.date(2026, 7, 1)),
        (other.pk, shown.pk, dt.date(2026, 7, 1)),
    }
    services.forecasts_publish(forecasts=Forecast.objects.filter(pk=draft.pk))
    shown.tags.remove(other)
    services.forecast_extend(
        forecast=shown,
        new_resolve_by=dt.date(2026, 12, 1),
        reason="Not yet knowable.",
        extended_by=None,
    )
    draft.refresh_from_db()
    assert tag_listings_stored() == {
        (tag.pk, draft.pk, draft.resolve_by),
        (tag.pk, shown.pk, dt.date(2026, 12, 1)),
    }
    _assert_counts_exact()


def test_verify_ledger_finds_a_tag_listing_that_is_wrong(seeded):
    ledger_verify()
    forecast = Forecast.objects.published().first()
    assert forecast is not None
    forecast.tags.add(TagFactory(slug="added"))
    ledger_verify()  # a tag given through the ORM is listed by the database
    PublishedTagListing.objects.filter(forecast_id=forecast.pk).delete()
    with pytest.raises(LedgerMismatch, match="listing of published forecasts by tag"):
        ledger_verify()


def test_the_forecasts_triggers_find_a_forecasts_listing_rows_by_an_index():
    """Migration 0021: the triggers delete a forecast's listing rows by its id on every
    update of a forecast row; without an index led by it PostgreSQL read the whole
    listing each time (a hash join over a sequential scan)."""
    require_postgresql("the planner's choice of index is PostgreSQL's")
    forecast = ForecastFactory()
    forecast.tags.add(TagFactory(), TagFactory())
    assert PublishedTagListing.objects.filter(forecast_id=forecast.pk).count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN DELETE FROM forecasts_publishedtaglisting WHERE forecast_id = %s",
            [forecast.pk],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tag_listing_by_forecast" in plan, plan
    assert "Index Cond: (forecast_id = " in plan, plan
