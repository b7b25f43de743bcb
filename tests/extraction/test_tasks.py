"""The extraction task the admin queues: drafts proposed once, within a time limit, and
nothing half-written when the limit stops it."""

import logging

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from forecasts.extraction import ingest
from forecasts.extraction.quality import CORPUS_DIR
from forecasts.extraction.tasks import SOFT_TIME_LIMIT, TIME_LIMIT, source_extract
from forecasts.models import Forecast
from tests.factories import SourceFactory
from tracker.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def source():
    return SourceFactory(text=(CORPUS_DIR / "sports_preview.txt").read_text(encoding="utf-8"))


def test_the_task_proposes_the_drafts_once(source):
    assert "10 draft forecast(s) proposed" in source_extract.apply(args=[source.pk]).get()
    drafts = set(Forecast.objects.filter(source=source).values_list("pk", flat=True))
    assert len(drafts) == 10
    assert "0 draft forecast(s) proposed" in source_extract.apply(args=[source.pk]).get()
    assert set(Forecast.objects.filter(source=source).values_list("pk", flat=True)) == drafts


def test_the_task_runs_under_a_time_limit_of_its_own():
    assert source_extract.soft_time_limit == SOFT_TIME_LIMIT < TIME_LIMIT
    assert source_extract.time_limit == TIME_LIMIT < app.conf.task_soft_time_limit


def test_a_task_stopped_at_its_time_limit_leaves_no_draft_and_says_so(source, monkeypatch, caplog):
    draft_create = ingest._draft_create
    stored = []

    def stopped_after_two(*args, **kwargs):
        if len(stored) == 2:
            raise SoftTimeLimitExceeded()
        stored.append(draft_create(*args, **kwargs))
        return stored[-1]

    monkeypatch.setattr(ingest, "_draft_create", stopped_after_two)
    with caplog.at_level(logging.ERROR, logger="forecasts.extraction.tasks"):
        result = source_extract.apply(args=[source.pk])
    assert result.failed()
    assert len(stored) == 2  # written, then rolled back with the rest
    assert not Forecast.objects.exists()
    (record,) = [r for r in caplog.records if r.name == "forecasts.extraction.tasks"]
    assert record.getMessage().startswith(
        f"Extracting forecasts from source {source.pk} (“{source}”, "
    )
    assert f"stopped at the time limit of {SOFT_TIME_LIMIT} s; no draft was stored" in (
        record.getMessage()
    )


def test_a_source_deleted_before_its_task_ran_is_skipped():
    source = SourceFactory(text="The bank is likely to cut rates next month.")
    source_id = source.pk
    source.delete()
    assert "no longer exists" in source_extract.apply(args=[source_id]).get()
