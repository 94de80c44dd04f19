"""Ranked search, shared by the flow library and the step library.

On PostgreSQL each searchable row stores a weighted `tsvector` (title A, body B, commands and
tags C, the rest D) in a GIN-indexed column that the write path keeps current; a search is a
prefix-matching `tsquery` on it, OR'ed with pg_trgm's strict word similarity so a typo
("replciation") still finds the row. SQLite has neither: there every word must appear
(`icontains`) and rows whose title holds the words come first.

User text never reaches `to_tsquery` as syntax: it is cut into runs of letters and digits
(any script), so none of `& | ! ( ) : * ' \\ <->` survives, and the query is built from those.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import add

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connections
from django.db.models import Case, Expression, F, IntegerField, Q, Value, When

# Stemmed English: "resets" finds "reset". Migrations copy the same name into their SQL.
CONFIG = "english"
MAX_WORDS = 8
MAX_WORD_LENGTH = 50
# Letters and digits of any script; underscores and everything else separate words.
WORD = re.compile(r"[^\W_]+")
# Column name of the rank annotation a search adds (the "Best match" order sorts on it).
RANK = "search_rank"

_trigram_ready: dict[str, bool] = {}


def search_words(text: str) -> list[str]:
    """The words of a search box, lower-cased, at most MAX_WORDS of them."""
    return [w[:MAX_WORD_LENGTH] for w in WORD.findall(text.lower())][:MAX_WORDS]


def is_postgres(alias: str = "default") -> bool:
    return connections[alias].vendor == "postgresql"


def prefix_query(words: list[str]) -> SearchQuery:
    """Every word must match; the last one also as a prefix, so results appear while typing.

    The words hold only letters and digits (search_words), so the raw tsquery has no operator
    but the `&` and `:*` written here."""
    *whole, last = words
    raw = " & ".join([*whole, f"{last}:*"])
    return SearchQuery(raw, search_type="raw", config=CONFIG)


def trigram_ready(alias: str = "default") -> bool:
    """pg_trgm is installed (the migrations create it where the database role may).

    Asked once per database, not per search: a missing extension is a deployment fact."""
    connection = connections[alias]
    key = f"{alias}:{connection.settings_dict['NAME']}"
    if key not in _trigram_ready:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            _trigram_ready[key] = cursor.fetchone() is not None
    return _trigram_ready[key]


def ranked_match(
    *, words: list[str], vector: str = "search_vector", typo_field: str
) -> tuple[Q, Expression]:
    """PostgreSQL: the condition (full text, or a close spelling in `typo_field`) and the rank.

    A typo-only match ranks 0, under every full-text match; ties fall to the list's order."""
    query = prefix_query(words)
    condition = Q(**{vector: query})
    if trigram_ready():
        condition |= Q(**{f"{typo_field}__trigram_strict_word_similar": " ".join(words)})
    return condition, SearchRank(F(vector), query)


def title_rank(*, words: list[str], title: str) -> Expression:
    """SQLite's rank: how many of the words the title holds (so title matches come first)."""
    return reduce(
        add,
        (
            Case(
                When(**{f"{title}__icontains": word}, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
            for word in words
        ),
    )
