"""Measuring :mod:`forecasts.extraction` against hand labels (pure: files in, numbers out).

The labelled corpus lives in ``forecasts/extraction/corpus/``: our own articles
(``<name>.txt``) and, for each article, ``<name>.labels.json``.  The seed article's
text is NOT in the project: its label file names it (``"seed"``) and stores only
anchors of a few words with their character offsets, and the text is read from the
shared seeds folder at run time.

A label is matched by a *proposed* candidate whose quoted span contains the label's
anchor offset; each candidate matches at most one label.  Labels under ``"optional"``
(ambiguous cases, pull-quotes repeating a sentence) count neither for nor against.

Each label file may name its ``"group"``: ``"tuned"`` (the default) for the articles the
rules were written against, and a new name for articles written and labelled later, so
that a held-out score is reported apart from the one the rules were tuned to
(:func:`by_group`).  "Deadlines right" counts, over every label whose text gives a
deadline, those matched by a candidate with exactly that deadline: a missed label counts
against it, as the done-when of issue 18 asks.  Every proposed statement is put to the
statement gate (:func:`forecasts.extraction.gate.statement_check`) again, so a change that
lets a malformed statement through shows as "statements passing the gate 53/54".
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from forecasts.extraction.gate import statement_check
from forecasts.extraction.pipeline import Candidate, extract

__all__ = [
    "CORPUS_DIR",
    "DEFAULT_GROUP",
    "ArticleScore",
    "Label",
    "LabelledArticle",
    "article_score",
    "by_group",
    "corpus_load",
    "total",
]

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
#: The group of a label file that names none: the articles the rules were tuned on.
DEFAULT_GROUP = "tuned"


@dataclass(frozen=True, slots=True)
class Label:
    anchor: str
    offset: int
    probability: float | None = None
    deadline: dt.date | None = None
    conditional: bool = False


@dataclass(frozen=True, slots=True)
class LabelledArticle:
    name: str
    text: str
    published: dt.date
    predictions: tuple[Label, ...]
    optional: tuple[Label, ...]
    group: str = DEFAULT_GROUP


@dataclass(slots=True)
class ArticleScore:
    name: str
    group: str = DEFAULT_GROUP
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    polarity_agreed: int = 0
    conditional_agreed: int = 0
    deadlines_labelled: int = 0
    deadlines_exact: int = 0
    deadlines_missing: int = 0
    #: Labels (matched or not) whose text gives a deadline.
    deadlines_stated: int = 0
    #: Proposed candidates, and those whose statement the statement gate passes (checked
    #: again here, not taken from the pipeline's word for it).
    gate_checked: int = 0
    gate_passed: int = 0
    misses: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    #: "statement: reason" for each proposed statement the gate refuses.
    gate_failures: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        proposed = self.true_positives + self.false_positives
        return self.true_positives / proposed if proposed else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0

    @property
    def deadlines_right(self) -> float:
        """Of the labels whose text gives a deadline, the share found with that deadline."""
        return self.deadlines_exact / self.deadlines_stated if self.deadlines_stated else 1.0

    def __str__(self) -> str:
        return (
            f"{self.name}: precision {self.precision:.2f} "
            f"({self.true_positives}/{self.true_positives + self.false_positives}), "
            f"recall {self.recall:.2f} ({self.true_positives}/"
            f"{self.true_positives + self.false_negatives}), "
            f"polarity {self.polarity_agreed}/{self.true_positives}, "
            f"conditional {self.conditional_agreed}/{self.true_positives}, "
            f"deadlines exact {self.deadlines_exact}/{self.deadlines_labelled} "
            f"(none found: {self.deadlines_missing}), "
            f"deadlines right {self.deadlines_right:.2f} "
            f"({self.deadlines_exact}/{self.deadlines_stated}), "
            f"statements passing the gate {self.gate_passed}/{self.gate_checked}"
        )


class SeedArticleMissing(FileNotFoundError):
    """The shared seed article is not beside the repository."""


def _label(raw: dict[str, object]) -> Label:
    deadline = raw.get("deadline")
    probability = raw.get("probability")
    offset = raw["offset"]
    assert isinstance(offset, int)
    return Label(
        anchor=str(raw["anchor"]),
        offset=offset,
        probability=float(probability) if isinstance(probability, int | float) else None,
        deadline=dt.date.fromisoformat(deadline) if isinstance(deadline, str) else None,
        conditional=bool(raw.get("conditional", False)),
    )


def corpus_load(
    *, corpus_dir: Path = CORPUS_DIR, seeds_dir: Path | None = None
) -> list[LabelledArticle]:
    """Every labelled article; seed articles need ``seeds_dir`` (skipped when it is None).

    Raises :class:`SeedArticleMissing` if a seed label file names a text that is absent,
    and ``ValueError`` if an anchor is not at its offset (the text changed).
    """
    articles = []
    for path in sorted(corpus_dir.glob("*.labels.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        if "seed" in raw:
            if seeds_dir is None:
                continue
            text_path = seeds_dir / raw["seed"]
            if not text_path.exists():
                raise SeedArticleMissing(f"seed article {text_path} is missing")
        else:
            text_path = corpus_dir / raw["article"]
        text = text_path.read_text(encoding="utf-8")
        predictions = tuple(_label(item) for item in raw["predictions"])
        optional = tuple(_label(item) for item in raw.get("optional", []))
        for label in predictions + optional:
            if text[label.offset : label.offset + len(label.anchor)] != label.anchor:
                raise ValueError(f"{path.name}: {label.anchor!r} is not at offset {label.offset}")
        articles.append(
            LabelledArticle(
                name=path.name.removesuffix(".labels.json"),
                text=text,
                published=dt.date.fromisoformat(raw["published"]),
                predictions=predictions,
                optional=optional,
                group=str(raw.get("group", DEFAULT_GROUP)),
            )
        )
    return articles


def _side(probability: float) -> int:
    return 0 if abs(probability - 0.5) <= 0.05 else (1 if probability > 0.5 else -1)


def article_score(
    article: LabelledArticle, candidates: list[Candidate] | None = None
) -> ArticleScore:
    """Precision, recall and agreement on polarity, conditionality and deadline."""
    if candidates is None:
        candidates = extract(article.text, article.published)
    proposed = [c for c in candidates if c.is_proposed]
    score = ArticleScore(name=article.name, group=article.group)
    used: set[int] = set()

    def take(label: Label) -> Candidate | None:
        for index, candidate in enumerate(proposed):
            if index not in used and candidate.start <= label.offset < candidate.end:
                used.add(index)
                return candidate
        return None

    for label in article.predictions:
        if label.deadline is not None:
            score.deadlines_stated += 1
        candidate = take(label)
        if candidate is None:
            score.false_negatives += 1
            score.misses.append(label.anchor)
            continue
        score.true_positives += 1
        if label.probability is not None and _side(label.probability) == _side(
            candidate.probability
        ):
            score.polarity_agreed += 1
        if label.conditional == candidate.conditional:
            score.conditional_agreed += 1
        if label.deadline is not None:
            score.deadlines_labelled += 1
            if candidate.deadline == label.deadline:
                score.deadlines_exact += 1
            elif candidate.deadline is None:
                score.deadlines_missing += 1
    for label in article.optional:
        take(label)
    for candidate in proposed:
        score.gate_checked += 1
        reason = statement_check(candidate.statement)
        if reason is None:
            score.gate_passed += 1
        else:
            score.gate_failures.append(f"{candidate.statement[:80]}: {reason}")
    for index, candidate in enumerate(proposed):
        if index not in used:
            score.false_positives += 1
            score.spurious.append(candidate.quote[:80])
    return score


def total(scores: list[ArticleScore], *, name: str = "overall") -> ArticleScore:
    overall = ArticleScore(name=name)
    for score in scores:
        overall.true_positives += score.true_positives
        overall.false_positives += score.false_positives
        overall.false_negatives += score.false_negatives
        overall.polarity_agreed += score.polarity_agreed
        overall.conditional_agreed += score.conditional_agreed
        overall.deadlines_labelled += score.deadlines_labelled
        overall.deadlines_exact += score.deadlines_exact
        overall.deadlines_missing += score.deadlines_missing
        overall.deadlines_stated += score.deadlines_stated
        overall.gate_checked += score.gate_checked
        overall.gate_passed += score.gate_passed
        overall.gate_failures.extend(f"{score.name}: {failure}" for failure in score.gate_failures)
        overall.misses.extend(f"{score.name}: {miss}" for miss in score.misses)
        overall.spurious.extend(f"{score.name}: {quote}" for quote in score.spurious)
    return overall


def by_group(scores: list[ArticleScore]) -> dict[str, ArticleScore]:
    """One total per group, the tuned group first and the others by name."""
    groups = sorted({score.group for score in scores}, key=lambda g: (g != DEFAULT_GROUP, g))
    return {
        group: total([s for s in scores if s.group == group], name=f"group {group}")
        for group in groups
    }
