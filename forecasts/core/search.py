"""Searching the forecasts' statements: full-text on PostgreSQL, a substring elsewhere.

One place decides how (:func:`full_text_available`, by the database in use), so the
list page, ``/api/forecasts`` and the CSV export search alike. On PostgreSQL a search is
``websearch_to_tsquery`` (words, ``"quoted phrases"``, ``or``, ``-word``) against the
statement's English ``tsvector``, matched by word stem ("recessions" finds "recession")
and served by the GIN index of migration ``0019_forecast_search``, which is built from
:func:`statement_vector` and must stay the same expression. SQLite has no such thing:
there a search is the text as a case-insensitive substring of the statement.
"""

from __future__ import annotations

from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVector,
    SearchVectorExact,
)
from django.db import connection
from django.db.models import Q

# The text search configuration: English stems and stop words.
SEARCH_CONFIG = "english"


def full_text_available() -> bool:
    """Whether searches are full-text (PostgreSQL) rather than substrings."""
    return connection.vendor == "postgresql"


def statement_vector() -> SearchVector:
    """The statement's ``tsvector``: the expression the GIN index holds."""
    return SearchVector("statement", config=SEARCH_CONFIG)


def _query(text: str) -> SearchQuery:
    return SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")


def statement_matches(text: str) -> Q:
    """Forecasts whose statement matches ``text``; every forecast for a blank one."""
    if not text.strip():
        return Q()
    if full_text_available():
        return Q(SearchVectorExact(statement_vector(), _query(text)))
    return Q(statement__icontains=text)


def statement_rank(text: str) -> SearchRank | None:
    """How well a statement matches ``text`` (higher is better), for a best-match-first
    order; None where searches are substrings, which have no rank."""
    if not text.strip() or not full_text_available():
        return None
    return SearchRank(statement_vector(), _query(text))
