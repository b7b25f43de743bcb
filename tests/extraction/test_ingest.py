"""Ingesting articles (ingest_article) and the admin's extract / accept / reject flow."""

import datetime as dt
import time

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from forecasts.core.seed import seed_forecasts_load
from forecasts.core.services.publication import publication_refusals
from forecasts.extraction import ingest as ingest_service
from forecasts.extraction.ingest import NO_DEADLINE_NOTE
from forecasts.extraction.pipeline import MAX_SENTENCE_CHARS
from forecasts.extraction.quality import CORPUS_DIR
from forecasts.models import Basis, Estimate, Forecast, Forecaster, Source
from tests.conftest import SEED_ARTICLE
from tests.factories import ForecastFactory, SourceFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "https://news.example.org/2025/01/cup-final-preview"
SPORTS = CORPUS_DIR / "sports_preview.txt"


def ingest(path, *, url=URL, published="2025-01-08", **options):
    call_command("ingest_article", str(path), url=url, published=published, **options)


def nothing_stored():
    return Source.objects.count() == 0 and Forecast.objects.count() == 0


# --- The command -----------------------------------------------------------------


def test_ingest_stores_the_source_with_its_text_and_drafts(capsys):
    ingest(SPORTS, forecaster="Harbour Gazette sports desk")
    source = Source.objects.get(url=URL)
    assert source.text == SPORTS.read_text(encoding="utf-8")
    assert source.title.startswith("Cup final preview")
    drafts = Forecast.objects.filter(source=source)
    assert drafts.count() >= 9
    assert all(draft.published_at is None for draft in drafts)
    assert {draft.forecaster.name for draft in drafts} == {"Harbour Gazette sports desk"}
    for draft in drafts:
        assert source.text[draft.quote_start : draft.quote_end] == draft.quote
        assert 0 <= draft.extraction_confidence <= 1
    final = drafts.get(quote__startswith="Harbour City are likely to win")
    assert final.resolve_by == dt.date(2025, 1, 12)
    estimate = final.latest_estimate()
    assert (estimate.probability, estimate.phrase, estimate.basis) == (0.7, "likely", "phrase")
    conditional = drafts.get(quote__startswith="If Reyes lasts")
    assert conditional.condition == "Reyes lasts the full ninety minutes."
    out = capsys.readouterr().out
    assert "draft forecast(s) proposed" in out
    assert "70% by 2025-01-12: Harbour City will win the final on Sunday." in out


def test_reingesting_the_same_url_does_not_duplicate(capsys):
    ingest(SPORTS)
    first = set(Forecast.objects.values_list("slug", flat=True))
    ingest(SPORTS)
    assert set(Forecast.objects.values_list("slug", flat=True)) == first
    assert Source.objects.count() == 1
    assert Estimate.objects.count() == len(first)
    assert "0 draft forecast(s) proposed" in capsys.readouterr().out


def test_the_command_says_how_many_sentences_were_too_long_to_read(tmp_path, capsys):
    article = tmp_path / "a.txt"
    table = " | ".join(["2026", "likely"] * (MAX_SENTENCE_CHARS // 10))
    text = f"Outlook\n\nThe bank is likely to cut rates next month.\n\n{table}\n"
    article.write_text(text, encoding="utf-8")
    ingest(article)
    assert Forecast.objects.get().statement == "The bank will cut rates next month."
    assert "1 sentence(s) over 1,000 characters skipped unread" in capsys.readouterr().out


def test_without_a_forecaster_the_site_is_held_to_account():
    ingest(SPORTS)
    forecaster = Forecaster.objects.get()
    assert forecaster.name == "news.example.org"
    assert forecaster.kind == Forecaster.Kind.OUTLET


def test_a_negated_candidate_is_stored_with_the_flipped_probability(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text(
        "Outlook\n\nThe most likely scenario is that a deal will remain out of reach before "
        "the end of President Trump’s first term.\n",
        encoding="utf-8",
    )
    ingest(article, published="2019-11-01")
    forecast = Forecast.objects.get()
    assert forecast.statement.startswith("A deal will be reached")
    assert forecast.resolve_by == dt.date(2021, 1, 20)
    estimate = forecast.latest_estimate()
    assert estimate.negated
    assert estimate.probability == pytest.approx(0.45)


def test_a_stated_number_is_stored_as_that_number_and_an_expectation_as_a_phrase():
    text = (
        "Rates outlook\n\n"
        "We put the odds of the Fed cutting rates in June at 60%.\n\n"
        "There is a 30 per cent chance that the deal will not be reached by the end of "
        "the year.\n\n"
        "We expect the bank to hold rates in December.\n"
    )
    report = ingest_service.source_ingest(
        text=text,
        url="https://news.example.org/rates-outlook",
        title="Rates outlook",
        published_on=dt.date(2019, 11, 1),
    )
    assert len(report.created) == 3

    cut = Forecast.objects.get(statement="The Fed will cut rates in June.")
    assert cut.resolve_by == dt.date(2020, 6, 30)
    estimate = cut.latest_estimate()
    assert (estimate.basis, estimate.probability, estimate.phrase, estimate.negated) == (
        Basis.NUMBER,
        0.6,
        "",
        False,
    )
    assert (estimate.low, estimate.high) == (None, None)
    assert "“put the odds of the Fed cutting rates in June at 60%” (60 %)" in estimate.note

    # The number was for the opposite of the statement: stored as 1 − 0.30, and said so.
    deal = Forecast.objects.get(statement="The deal will be reached by the end of the year.")
    estimate = deal.latest_estimate()
    assert (estimate.basis, estimate.negated) == (Basis.NUMBER, False)
    assert estimate.probability == pytest.approx(0.7)
    assert "“a 30 per cent chance”" in estimate.note
    assert "so P = 1 − 30 % = 70 %" in estimate.note

    hold = Forecast.objects.get(statement="The bank will hold rates in December.")
    estimate = hold.latest_estimate()
    assert (estimate.basis, estimate.phrase, estimate.probability) == (
        Basis.PHRASE,
        "expected",
        0.7,
    )


def test_a_candidate_without_a_deadline_says_so(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("It is expected that he will keep his role.\n", encoding="utf-8")
    ingest(article, published="2019-11-01")
    forecast = Forecast.objects.get()
    assert forecast.resolve_by_note.startswith(NO_DEADLINE_NOTE)


@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason=f"seed article missing at {SEED_ARTICLE}")
def test_the_seed_article(capsys):
    ingest(SEED_ARTICLE, url="https://example.org/seed", published="2019-11-01")
    drafts = Forecast.objects.all()
    assert drafts.count() >= 13
    scenario = drafts.get(quote__startswith="The most likely scenario")
    assert scenario.resolve_by == dt.date(2021, 1, 20)
    assert scenario.latest_estimate().probability == pytest.approx(0.45)
    poised = drafts.get(quote__contains="appears poised")
    assert poised.resolve_by == dt.date(2020, 11, 3)
    assert drafts.exclude(condition="").count() == 2


@pytest.mark.skipif(not SEED_ARTICLE.exists(), reason=f"seed article missing at {SEED_ARTICLE}")
def test_the_seed_article_after_the_seed_forecasts_is_one_source(capsys):
    # make run loads the hand-entered seed forecasts with the article's text and no URL.
    seed_forecasts_load(text=SEED_ARTICLE.read_text(encoding="utf-8"))
    seed = Source.objects.get()
    hand_entered = dict(Forecast.objects.values_list("pk", "quote"))

    ingest(SEED_ARTICLE, url="https://example.org/seed", published="2019-11-01")

    assert Source.objects.get() == seed
    seed.refresh_from_db()
    assert seed.url == "https://example.org/seed"
    drafts = Forecast.objects.exclude(pk__in=hand_entered)
    # Only sentences no seed forecast quotes yet are proposed, held to the seed's analyst.
    assert drafts.exists()
    for draft in drafts:
        assert draft.published_at is None
        assert draft.forecaster == Forecast.objects.get(pk=min(hand_entered)).forecaster
        for quote in hand_entered.values():
            assert draft.quote not in quote
            assert quote not in draft.quote
    assert "already stored" in capsys.readouterr().out


def test_the_same_text_under_another_url_is_refused():
    ingest(SPORTS)
    before = set(Forecast.objects.values_list("pk", flat=True))
    with pytest.raises(CommandError, match=f"already ingested from {URL}"):
        ingest(SPORTS, url="https://mirror.example.net/cup-final")
    assert set(Forecast.objects.values_list("pk", flat=True)) == before
    assert Source.objects.get().url == URL


def test_extracting_again_skips_sentences_an_editor_already_made_forecasts_of(client):
    ingest(SPORTS)
    source = Source.objects.get()
    kept = Forecast.objects.get(quote__startswith="Harbour City are likely to win")
    # The editor deletes the drafts but keeps one, rewritten by hand under a new slug.
    Forecast.objects.exclude(pk=kept.pk).delete()
    Forecast.objects.filter(pk=kept.pk).update(slug="hand-written")
    created = ingest_service.source_extract(source=source).created
    assert created
    assert not any(draft.quote_start == kept.quote_start for draft in created)
    assert Forecast.objects.filter(quote__startswith="Harbour City are likely to win").count() == 1


# --- Bad input: a clear error and nothing stored ------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n  ", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not text"),
        (
            "Il est peu probable qu’un accord soit conclu.".encode("latin-1", "replace") + b"\xe9",
            "not UTF-8",
        ),
        (b"text\x01\x02\x03\x04\x05\x06 more", "not text"),
        (b"x" * 1_000_001, "limit"),
    ],
)
def test_files_that_are_not_text_are_refused(tmp_path, content, message):
    article = tmp_path / "article.txt"
    article.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        ingest(article)
    assert nothing_stored()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"published": "01/11/2019"}, "not a date"),
        ({"published": "2019-02-30"}, "not a date"),
        ({"url": "not a url"}, "not an http"),
    ],
)
def test_bad_arguments_are_refused(options, message):
    with pytest.raises(CommandError, match=message):
        ingest(SPORTS, **options)
    assert nothing_stored()


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="not a file"):
        ingest(tmp_path / "nope.txt")
    assert nothing_stored()


def test_the_same_url_with_a_different_text_is_refused(tmp_path):
    ingest(SPORTS)
    before = Forecast.objects.count()
    other = tmp_path / "other.txt"
    other.write_text("Another text. Rates are likely to fall next year.\n", encoding="utf-8")
    with pytest.raises(CommandError, match="different text"):
        ingest(other)
    assert Forecast.objects.count() == before
    assert Source.objects.get().text == SPORTS.read_text(encoding="utf-8")


def test_a_failure_half_way_stores_nothing(monkeypatch):
    real = ingest_service.forecast_create
    calls = []

    def failing(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(ingest_service, "forecast_create", failing)
    with pytest.raises(RuntimeError):
        ingest(SPORTS)
    assert nothing_stored()


# --- The admin flow ---------------------------------------------------------------------


@pytest.fixture
def editor(client):
    user = UserFactory(username="editor", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


def changelist(model):
    return reverse(f"admin:forecasts_{model}_changelist")


def test_admin_paste_extract_accept_reject(client, editor, extract):
    # The preview's forecasts all point to Sunday's final now (the article's context gives
    # their deadline): one sentence that names no time keeps a draft waiting for a deadline.
    text = SPORTS.read_text(encoding="utf-8") + (
        "\n\nWhatever the result, it is likely that the club will sell its training ground.\n"
    )
    response = client.post(
        reverse("admin:forecasts_source_add"),
        {
            "title": "Cup final preview",
            "key": "cup-final-preview",
            "url": URL,
            "published_on": "2025-01-08",
            "published_precision": "day",
            "text": text,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(key="cup-final-preview")
    assert source.text == text.strip()  # the form strips surrounding whitespace

    # Extract, twice: the second run proposes nothing new.
    response = extract(source)
    assert "has started" in response.content.decode()
    drafts = Forecast.objects.filter(source=source)
    count = drafts.count()
    assert count >= 9
    extract(source)
    assert drafts.count() == count

    # The changelist lists candidates, strongest first when sorted by confidence.
    response = client.get(changelist("forecast"), {"o": "10"})
    assert response.status_code == 200

    # Reject two, accept the rest: those without a deadline wait for an editor.
    rejected = list(drafts.order_by("extraction_confidence")[:2])
    client.post(
        changelist("forecast"),
        {"action": "reject", "_selected_action": [f.pk for f in rejected]},
    )
    assert drafts.filter(rejected_at__isnull=False).count() == 2
    # Accepted as extracted, none is published: the criteria are the placeholder.
    selected = {"action": "publish", "_selected_action": [f.pk for f in drafts]}
    response = client.post(changelist("forecast"), selected, follow=True)
    assert not drafts.filter(published_at__isnull=False).exists()
    assert "resolution criteria are still the ones extraction proposed" in (
        response.content.decode()
    )
    # The editor makes the criteria precise; drafts whose statement keeps a hedge wait.
    drafts.update(resolution_criteria="YES if it happens by the deadline.")
    hedged = [f.pk for f in drafts.filter(rejected_at=None) if publication_refusals(f)]
    response = client.post(changelist("forecast"), selected, follow=True)
    no_deadline = drafts.filter(resolve_by_note__startswith=NO_DEADLINE_NOTE, rejected_at=None)
    published = drafts.filter(published_at__isnull=False)
    waiting = no_deadline.exclude(pk__in=hedged).count() + len(hedged)
    assert published.count() == count - 2 - waiting
    assert not published.filter(rejected_at__isnull=False).exists()
    assert no_deadline.exists()  # the preview has hedged sentences with no date
    assert "gave no deadline" in response.content.decode()

    # Extracting again re-proposes neither the rejected nor the published ones.
    extract(source)
    assert drafts.count() == count


@pytest.fixture
def extract(client, task_errors_raise, django_capture_on_commit_callbacks):
    """Ask the admin to extract forecasts from sources; run the tasks it queues, here."""

    def extract(*sources):
        action = {"action": "extract_forecasts", "_selected_action": [s.pk for s in sources]}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(changelist("source"), action, follow=True)

    return extract


def test_extracting_in_the_admin_answers_at_once_and_a_task_proposes_the_drafts(
    client, editor, task_errors_raise, django_capture_on_commit_callbacks
):
    source = SourceFactory(text=SPORTS.read_text(encoding="utf-8"))
    action = {"action": "extract_forecasts", "_selected_action": [source.pk]}
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(changelist("source"), action, follow=True)
    page = response.content.decode()
    assert "has started" in page
    drafts = f"{changelist('forecast')}?status=draft&amp;source__id__exact={source.pk}"
    assert f'href="{drafts}"' in page
    assert not Forecast.objects.exists()  # the page did not wait for the extraction
    assert len(queued) == 1
    queued[0]()  # the worker
    assert Forecast.objects.filter(source=source, published_at=None).count() >= 9


def test_a_paste_that_once_held_the_admin_for_minutes_is_read_at_once(client, editor, extract):
    # The review pasted 1,024 characters and the request took 20.4 s (cubic backtracking
    # in the "there is ... chance that" pattern); here 10 KB, and the task runs inline.
    text = "It is likely there is " + " " * 10_000 + "x"
    source = SourceFactory(text=text)
    began = time.perf_counter()
    extract(source)
    assert time.perf_counter() - began < 1.0


def test_reject_never_touches_published_forecasts(client, editor):
    published = ForecastFactory()
    draft = ForecastFactory(published_at=None)
    client.post(
        changelist("forecast"),
        {"action": "reject", "_selected_action": [published.pk, draft.pk]},
    )
    published.refresh_from_db()
    draft.refresh_from_db()
    assert published.rejected_at is None
    assert draft.rejected_at is not None
    # A rejected draft is not published by accepting it.
    client.post(changelist("forecast"), {"action": "publish", "_selected_action": [draft.pk]})
    draft.refresh_from_db()
    assert draft.published_at is None


def test_extracting_a_source_without_text_says_so(client, editor):
    source = SourceFactory(text="")
    response = client.post(
        changelist("source"),
        {"action": "extract_forecasts", "_selected_action": [source.pk]},
        follow=True,
    )
    assert "have no text" in response.content.decode()
    assert not Forecast.objects.exists()


def test_pasted_text_that_is_not_text_is_a_form_error(client, editor):
    response = client.post(
        reverse("admin:forecasts_source_add"),
        {
            "title": "Broken",
            "key": "broken",
            "url": "https://example.org/broken",
            "published_on": "2025-01-08",
            "published_precision": "day",
            "text": "abc" + "\x01\x02\x03\x04" * 5,
        },
    )
    assert response.status_code == 200
    assert "control characters" in response.content.decode()
    assert not Source.objects.exists()


# --- The database guards the extraction fields -------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"extraction_confidence": 1.5},
        {"extraction_confidence": -0.1},
        {"rejected_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)},  # the forecast is published
    ],
)
def test_constraints_on_extraction_fields(changes):
    from django.db import IntegrityError, transaction

    forecast = ForecastFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Forecast.objects.filter(pk=forecast.pk).update(**changes)
