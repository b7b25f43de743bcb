"""Today's snapshots, kept in step on every change, are exactly the rows a rewrite of the
day from the live sums writes (on PostgreSQL they are overwritten where they stand)."""

import datetime as dt
import random

import pytest

from forecasts.models import ScoreSnapshot
from forecasts.scores.sums import live_snapshots
from tests.scores.test_live import NOON, TODAY, random_record, resolve

pytestmark = pytest.mark.django_db

COMPARED = [
    field.attname
    for field in ScoreSnapshot._meta.concrete_fields
    if field.attname not in ("id", "computed_at")
]


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(NOON, tick=False)


def _rows(snapshots):
    return {
        (s.scope_kind, s.scope_id): {name: getattr(s, name) for name in COMPARED} for s in snapshots
    }


@pytest.mark.parametrize("seed", [7, 8])
def test_todays_rows_equal_a_rewrite_from_the_live_sums(seed, time_machine):
    record = random_record(random.Random(seed), forecasts=30)
    stored = list(ScoreSnapshot.objects.filter(as_of=TODAY))
    # One row per scope: an overwrite never leaves a second row behind.
    assert len({(s.scope_kind, s.scope_id) for s in stored}) == len(stored) > 8
    assert _rows(stored) == _rows(live_snapshots(as_of=TODAY))
    # A later change of the same day rewrites the touched scopes' rows, and only those.
    computed = {(s.scope_kind, s.scope_id): s.computed_at for s in stored}
    late = next(f for f in record["forecasts"] if not f.resolutions.exists())
    time_machine.move_to(NOON + dt.timedelta(minutes=5), tick=False)
    resolve(late, "YES", TODAY - dt.timedelta(days=1))
    after = list(ScoreSnapshot.objects.filter(as_of=TODAY))
    assert _rows(after) == _rows(live_snapshots(as_of=TODAY))
    touched = {("all", 0), ("forecaster", late.forecaster_id), ("source", late.source_id)}
    touched |= {("tag", tag.pk) for tag in late.tags.all()}
    for snapshot in after:
        scope = (snapshot.scope_kind, snapshot.scope_id)
        assert (snapshot.computed_at != computed.get(scope)) == (scope in touched), scope
