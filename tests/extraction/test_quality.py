"""The corpus scorer: groups are reported apart, and deadlines right counts missed labels."""

import datetime as dt
import json
from dataclasses import replace

from forecasts.devtools.management.commands.bench_extraction import verdict
from forecasts.extraction.pipeline import Candidate
from forecasts.extraction.quality import (
    DEFAULT_GROUP,
    ArticleScore,
    article_score,
    by_group,
    corpus_load,
    total,
)

TEXT = (
    "Rates will probably fall by the end of next year. "
    "A recession in 2027 is unlikely, whatever the pessimists say. "
    "The weather was cold."
)


def _write(tmp_path, name, group, predictions):
    (tmp_path / f"{name}.txt").write_text(TEXT, encoding="utf-8")
    raw = {"article": f"{name}.txt", "published": "2026-01-12", "predictions": predictions}
    if group is not None:
        raw["group"] = group
    (tmp_path / f"{name}.labels.json").write_text(json.dumps(raw), encoding="utf-8")


def _label(anchor, deadline):
    return {
        "anchor": anchor,
        "offset": TEXT.index(anchor),
        "probability": 0.7,
        "deadline": deadline,
        "conditional": False,
    }


def test_groups_default_to_tuned_and_are_totalled_apart(tmp_path):
    _write(tmp_path, "a_old", None, [_label("Rates will probably fall", "2027-12-31")])
    _write(tmp_path, "b_new", "held-out", [_label("A recession in 2027", "2027-12-31")])
    articles = corpus_load(corpus_dir=tmp_path)
    assert [(a.name, a.group) for a in articles] == [
        ("a_old", DEFAULT_GROUP),
        ("b_new", "held-out"),
    ]
    scores = [article_score(a) for a in articles]
    groups = by_group(scores)
    assert list(groups) == [DEFAULT_GROUP, "held-out"]
    for article, score in zip(articles, scores, strict=True):
        group_score = groups[article.group]
        assert group_score.true_positives == score.true_positives
        assert group_score.false_positives == score.false_positives
        assert group_score.false_negatives == score.false_negatives
    overall = total(scores)
    assert overall.deadlines_stated == 2
    assert overall.true_positives == sum(g.true_positives for g in groups.values())


def _candidate(start, end, deadline):
    quote = TEXT[start:end]
    return Candidate(
        start=start,
        end=end,
        sentence_start=start,
        sentence_end=end,
        quote=quote,
        statement=quote,
        phrase="probably",
        matched="probably",
        stated_probability=None,
        probability=0.75,
        low=0.7,
        high=0.8,
        negated=False,
        weak=False,
        conditional=False,
        condition="",
        deadline=deadline,
        deadline_expression="",
        deadline_note="",
        confidence=1.0,
        reasons=(),
    )


def test_deadlines_right_counts_every_label_whose_text_gives_a_deadline(tmp_path):
    _write(
        tmp_path,
        "a",
        None,
        [
            _label("Rates will probably fall", "2027-12-31"),
            _label("A recession in 2027", "2027-12-31"),
            _label("The weather was cold", None),
        ],
    )
    (article,) = corpus_load(corpus_dir=tmp_path)
    first_end = TEXT.index(" A recession")
    # One candidate with the right deadline; the recession label is missed entirely.
    score = article_score(article, [_candidate(0, first_end, dt.date(2027, 12, 31))])
    assert score.deadlines_stated == 2
    assert score.deadlines_exact == 1
    assert score.deadlines_right == 0.5
    assert "deadlines right 0.50 (1/2)" in str(score)
    wrong = article_score(article, [_candidate(0, first_end, dt.date(2027, 6, 30))])
    assert wrong.deadlines_right == 0.0


def test_the_shipped_corpus_has_a_held_out_group_of_six_articles():
    articles = corpus_load()
    new = [a for a in articles if a.group == "new-2026-12"]
    assert len(new) >= 6
    for article in new:
        assert 450 <= len(article.text.split()) <= 800, article.name
        assert article.predictions


def test_every_proposed_statement_is_put_to_the_gate_again(tmp_path):
    _write(tmp_path, "a", None, [_label("Rates will probably fall", "2027-12-31")])
    (article,) = corpus_load(corpus_dir=tmp_path)
    first_end = TEXT.index(" A recession")
    second_start = first_end + 1
    second_end = TEXT.index(" The weather")
    good = replace(
        _candidate(0, first_end, dt.date(2027, 12, 31)),
        statement="Rates will fall by the end of next year.",
    )
    # A statement the pipeline would have kept back: the hedge is still inside it.
    bad = replace(
        _candidate(second_start, second_end, None),
        statement="A recession in 2027 is unlikely.",
    )
    held_back = replace(_candidate(0, 5, None), statement="Will it?", confidence=0.3)
    score = article_score(article, [good, bad, held_back])
    assert (score.gate_checked, score.gate_passed) == (2, 1)
    assert score.gate_failures == [
        "A recession in 2027 is unlikely.: contains the hedge 'unlikely'"
    ]
    assert str(score).endswith("statements passing the gate 1/2")
    overall = total([score, article_score(article, [good])])
    assert (overall.gate_checked, overall.gate_passed) == (3, 2)
    assert overall.gate_failures == [
        "a: A recession in 2027 is unlikely.: contains the hedge 'unlikely'"
    ]


def test_the_bench_verdicts_name_what_falls_short():
    short = ArticleScore(name="group new", group="new", true_positives=8, false_negatives=2)
    short.gate_checked, short.gate_passed = 8, 7
    line = verdict("new", short)
    assert line.startswith("verdict new (issue 18 targets): recall 0.80 ≥ 0.85")
    assert line.endswith("NOT MET (recall 0.80 ≥ 0.85; all proposed pass the gate (7/8))")
    tuned = ArticleScore(name="group tuned", true_positives=98, false_positives=1)
    tuned.false_negatives = 1
    assert verdict(DEFAULT_GROUP, tuned).endswith("precision 0.99 ≥ 0.98, recall 0.99 ≥ 0.98: MET")
