"""A forecast's public history on its page: every ledger entry, in order, in role terms."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forecasts.models import LedgerEntry
from tests.ledger import full_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def page(client):
    history = full_history()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(history.forecast.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    section = html[
        html.index('id="history-heading"') : html.index(
            "</section>", html.index('id="history-heading"')
        )
    ]
    return history, section, queries


def items(section):
    return re.findall(r'<li id="ledger-(\d+)" class="ledger-(\w+)">(.*?)</li>', section, re.S)


def test_every_entry_is_listed_in_order_with_its_seq_and_short_hash(page):
    history, section, _ = page
    listed = items(section)
    entries = LedgerEntry.objects.filter(forecast=history.forecast).order_by("seq")
    assert [(int(seq), kind) for seq, kind, _ in listed] == [
        (entry.seq, entry.kind) for entry in entries
    ]
    for (_, _, text), entry in zip(listed, entries, strict=True):
        assert (
            f'Entry #{entry.seq}, hash <code title="{entry.hash}">{entry.hash[:12]}</code>' in text
        )


def test_each_entry_says_what_changed_who_and_why(page):
    _, section, _ = page
    text = {kind: body for _, kind, body in items(section)}
    assert "Published with estimate 30 % on" in text["publication"]
    assert "by an editor." in text["publication"]
    assert "New estimate 45 % on" in text["estimate"]
    assert (
        "Statement: “A deal is reached.” → “A deal &lt;script&gt;x&lt;/script&gt; is signed.”"
        in text["amendment"]
    )
    assert "Why: The source said “signed”." in text["amendment"]
    assert re.search(r"Deadline \d{4}-\d\d-\d\d → \d{4}-\d\d-\d\d\.", text["extension"])
    assert "Why: Talks resumed." in text["extension"]
    assert "by a reviewer." in text["extension"]
    assert "Outcome NO, known on" in text["resolution"]
    assert "Why: No deal &lt;em&gt;yet&lt;/em&gt;." in text["resolution"]
    assert "Outcome YES, known on" in text["correction"]
    assert "Evidence: https://news.example.org/deal" in text["correction"]
    assert "Why: Misread the communiqué." in text["correction"]


def test_nobody_is_named_and_everything_is_escaped(page):
    _, section, _ = page
    assert "alice" not in section
    assert "<script>" not in section
    assert "<em>yet" not in section


def test_the_entries_are_read_in_one_query(page):
    _, _, queries = page
    ledger = [q for q in queries.captured_queries if "forecasts_ledgerentry" in q["sql"]]
    assert len(ledger) == 1
