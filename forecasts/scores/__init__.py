"""Scores: the pure maths, scoring every scope from the record, snapshots, leaderboards and
the phrase table."""
