"""Reads of the stored snapshots."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from forecasts.scores.models import ScopeKind, ScoreSnapshot
from forecasts.scores.ranking import competition_ranks, is_ranked
from forecasts.scores.scopes import SCOPE_ORDER, Scope, scopes_named


@dataclass(frozen=True)
class Scoreboard:
    as_of: dt.date | None
    overall: ScoreSnapshot | None
    history: list[ScoreSnapshot]


def score_changes(history: Sequence[ScoreSnapshot]) -> list[ScoreSnapshot]:
    """The snapshots (oldest first) on which the scores changed: the first, each whose
    resolved count, Brier or skill differs from the one before, and the latest. A weekly
    history of years is mostly the same row again; these are the ones worth reading."""
    kept: list[ScoreSnapshot] = []
    previous: tuple[object, ...] | None = None
    for index, snapshot in enumerate(history):
        values = (snapshot.resolved_count, snapshot.brier, snapshot.skill_vs_coin)
        if values != previous or index == len(history) - 1:
            kept.append(snapshot)
        previous = values
    return kept


def scoreboard() -> Scoreboard:
    """The overall scores, latest and over time (the leaderboards are read separately)."""
    history = list(ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL).order_by("as_of"))
    if not history:
        return Scoreboard(None, None, [])
    return Scoreboard(as_of=history[-1].as_of, overall=history[-1], history=history)


@dataclass(frozen=True)
class ScopeSnapshot:
    scope: Scope
    snapshot: ScoreSnapshot
    # Its place on its kind's leaderboard; None for everything and for a scope with too
    # few resolved forecasts to rank (forecasts.scores.ranking).
    rank: int | None = None

    @property
    def ranked(self) -> bool:
        return self.rank is not None


@dataclass(frozen=True)
class LatestScores:
    as_of: dt.date | None
    items: list[ScopeSnapshot]


def scores_latest(*, kind: str | None = None) -> LatestScores:
    """Every scope's snapshot from the latest snapshot date, as the leaderboards put them:
    within each kind the ranked ones best (lowest shrunk Brier) first, with their rank,
    then those with too few resolved forecasts to rank, most resolved first. At most five
    queries."""
    snapshots = ScoreSnapshot.objects.all()
    if kind is not None:
        if kind not in ScopeKind.values:
            raise ValueError(f"Unknown scope kind {kind!r}; use one of {', '.join(ScopeKind)}.")
        snapshots = snapshots.filter(scope_kind=kind)
    latest = snapshots.order_by("-as_of").values_list("as_of", flat=True).first()
    if latest is None:
        return LatestScores(as_of=None, items=[])
    rows = list(snapshots.filter(as_of=latest))
    ids: dict[str, list[int]] = {}
    for row in rows:
        ids.setdefault(row.scope_kind, []).append(row.scope_id)
    scopes = {kind: scopes_named(kind, kind_ids) for kind, kind_ids in ids.items()}

    def score(row: ScoreSnapshot) -> float | None:
        """The ranking score of a row a leaderboard ranks, else None."""
        on_board = row.scope_kind != ScopeKind.ALL and is_ranked(row.resolved_count)
        return row.shrunk_brier if on_board else None

    shown = [row for row in rows if row.scope_id in scopes[row.scope_kind]]
    shown.sort(
        key=lambda row: (
            SCOPE_ORDER[row.scope_kind],
            score(row) is None,
            score(row) or 0.0,
            -row.resolved_count,
            scopes[row.scope_kind][row.scope_id].name,
        )
    )
    ranks: dict[tuple[str, int], int] = {}
    for board_kind in {row.scope_kind for row in shown}:
        board = [r for r in shown if r.scope_kind == board_kind and score(r) is not None]
        places = competition_ranks([r.shrunk_brier or 0.0 for r in board])
        for row, rank in zip(board, places, strict=True):
            ranks[(board_kind, row.scope_id)] = rank
    items = [
        ScopeSnapshot(
            scope=scopes[row.scope_kind][row.scope_id],
            snapshot=row,
            rank=ranks.get((row.scope_kind, row.scope_id)),
        )
        for row in shown
    ]
    return LatestScores(as_of=latest, items=items)


def snapshot_history(*, scope: Scope) -> QuerySet[ScoreSnapshot]:
    """A scope's snapshots, newest first."""
    return ScoreSnapshot.objects.filter(scope_kind=scope.kind, scope_id=scope.id).order_by("-as_of")


def latest_overall() -> ScoreSnapshot | None:
    """The newest snapshot of everything: the headline scores and the phrase table."""
    return ScoreSnapshot.objects.filter(scope_kind=ScopeKind.ALL).order_by("-as_of").first()


def scope_history(kind: str, scope_id: int) -> list[ScoreSnapshot]:
    return list(ScoreSnapshot.objects.filter(scope_kind=kind, scope_id=scope_id).order_by("as_of"))
