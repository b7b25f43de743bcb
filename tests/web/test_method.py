"""The method page states what the code computes: its numbers follow the constants,
settings and functions they come from (issue 17)."""

from __future__ import annotations

import re

import pytest

from forecasts.core import phrases
from forecasts.core.changes import public_pages_changed
from forecasts.core.ledger.canonical import GENESIS_HASH, canonical_json, chain_hash
from forecasts.extraction import pipeline
from forecasts.scores import additive

pytestmark = pytest.mark.django_db


def _page(client) -> str:
    public_pages_changed()  # the page is cached like every public page
    response = client.get("/method/")
    assert response.status_code == 200
    return " ".join(response.content.decode().split())


def test_the_lexicon_is_listed_whole_with_values_and_citations(client):
    html = _page(client)
    assert 'id="lexicon"' in html
    assert f"this lexicon of {len(phrases.LEXICON)} phrases" in html
    for entry in phrases.LEXICON.values():
        citation = entry.citation.replace("'", "&#x27;").replace('"', "&quot;")
        assert citation in html, entry.text
    likely = phrases.lookup("likely")
    row = html.split('<th scope="row">likely</th>')[1].split("</tr>")[0]
    assert f"{likely.probability * 100:g} %" in row
    assert f"{likely.low * 100:g}–{likely.high * 100:g} %" in row


def test_the_lexicon_rows_follow_the_table(client, monkeypatch):
    changed = phrases.Phrase("likely", 0.73, 0.6, 0.85, phrases.ICD, "A test citation")
    monkeypatch.setattr(phrases, "LEXICON", {**phrases.LEXICON, "likely": changed})
    html = _page(client)
    row = html.split('<th scope="row">likely</th>')[1].split("</tr>")[0]
    assert "73 %" in row
    assert "60–85 %" in row
    assert "A test citation" in row
    assert "makes “a deal is reached” 27 %, from “likely” at 73 %" in html


def test_the_ranking_rule_follows_the_setting_and_the_pseudocount(client, settings, monkeypatch):
    settings.LEADERBOARD_MIN_RESOLVED = 7
    html = _page(client)
    assert "at least 7 resolved forecasts are ranked" in html
    k, prior = additive.SHRINK_PSEUDOCOUNT, additive.SHRINK_PRIOR
    assert f"(n × Brier + {k} × {prior:g}) / (n + {k})" in html
    assert f"ranking score of {(0.04 + k * prior) / (1 + k):.3f}" in html

    monkeypatch.setattr(additive, "SHRINK_PSEUDOCOUNT", 10)
    html = _page(client)
    assert f"(n × Brier + 10 × {prior:g}) / (n + 10)" in html
    assert "as if 10 more forecasts at 50 % had been made" in html
    assert f"ranking score of {(0.04 + 10 * prior) / 11:.3f}" in html  # the example too


def test_the_scoring_rules_and_their_examples_come_from_the_code(client):
    html = _page(client)
    assert "always saying 50 % earns 0.25" in html
    assert "costs 0.693" in html  # ln 2, by maths.log_loss
    assert "costs at most 36.04" in html  # −ln ε
    # 10 days at (0.6 − 1)² = 0.16 and 10 at (0.9 − 1)² = 0.01
    assert "scores 0.0850: 10 days at 0.1600 and the rest at 0.0100" in html
    assert f"{additive.CALIBRATION_BINS} equal bins" in html


def test_the_extraction_threshold_and_review_timings_follow_the_code(client, settings, monkeypatch):
    settings.REVIEW_REMINDER_DAYS = 2
    settings.REVIEW_SECOND_REMINDER_DAYS = 9
    settings.REVIEW_ESCALATION_DAYS = 21
    settings.REVIEW_LINK_MAX_AGE_DAYS = 30
    monkeypatch.setattr(pipeline, "PROPOSE_AT", 0.65)
    html = _page(client)
    assert "those at 0.65 or above are proposed" in html
    assert "work for 30 days" in html
    assert "follows 2 days after the prompt and another after 9" in html
    assert "after 21 days" in html


def test_the_ledger_rule_is_shown_with_a_hash_the_code_computes(client):
    html = _page(client)
    payload = canonical_json({"seq": 1, "kind": "example"})
    assert chain_hash(GENESIS_HASH, payload) in html
    assert f"starting from {len(GENESIS_HASH)} zeros" in html
    assert 'href="/api/ledger/head"' in html
    assert 'href="/api/ledger"' in html


def test_every_number_on_the_page_is_accounted_for(client):
    """The page's prose has no number typed into the template: each one found in the
    template's text (outside tags and variables) is listed here with why it may stay."""
    from pathlib import Path

    from django.conf import settings as django_settings

    template = Path(django_settings.BASE_DIR, "templates/forecasts/method.html").read_text()
    text = re.sub(r"{%.*?%}|{{.*?}}|<[^>]+>", " ", template, flags=re.S)
    numbers = set(re.findall(r"\d+(?:\.\d+)?", text))
    # 0 and 1 are the outcomes and the score range's ends, 70 % is calibration's example
    # (any probability would do), 256 is in the hash's name, 30 % a quoted example.
    assert numbers <= {"0", "1", "70", "256", "30"}, numbers


def test_about_redirects_to_the_method_page_permanently(client):
    response = client.get("/about/")
    assert response.status_code == 301
    assert response["Location"] == "/method/"
