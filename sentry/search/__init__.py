"""
The search language: one grammar for the stream, the occurrences, the API and the feeds.

This package owns reading a query (:mod:`.grammar`, :mod:`.dates`), what
each key means in the database (:mod:`.keys`) and narrowing a queryset to it
(:mod:`.apply`), with the free words behind one function (:mod:`.text`),
which the full-text index (:mod:`.index`) serves on SQLite and PostgreSQL.
A query it cannot read raises :class:`SearchError`, which names the term and
says why; callers show it (the stream) or answer 400 (the API, the feeds),
never ignore it.
"""

from .apply import (
    apply_to_groups,
    apply_to_occurrences,
    group_condition,
    occurrence_condition,
)
from .grammar import (
    MAX_QUERY_LENGTH,
    MAX_TERMS,
    Has,
    Match,
    Query,
    SearchError,
    Seen,
    Status,
    Word,
    parse,
)

__all__ = [
    "MAX_QUERY_LENGTH",
    "MAX_TERMS",
    "Has",
    "Match",
    "Query",
    "SearchError",
    "Seen",
    "Status",
    "Word",
    "apply_to_groups",
    "apply_to_occurrences",
    "group_condition",
    "occurrence_condition",
    "parse",
]
