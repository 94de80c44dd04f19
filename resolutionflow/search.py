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

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramStrictWordSimilarity
from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    Expression,
    F,
    IntegerField,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import RawSQL

# Stemmed English: "resets" finds "reset". Migrations copy the same name into their SQL.
CONFIG = "english"
MAX_WORDS = 8
MAX_WORD_LENGTH = 50
# Letters and digits of any script; underscores and everything else separate words.
WORD = re.compile(r"[^\W_]+")
# Column name of the rank annotation a search adds (the "Best match" order sorts on it).
RANK = "search_rank"
# Up to this many matches a search is ranked in full (ts_rank) and counted exactly; beyond,
# pages say "1,000+" and the order is tiered: title matches first, most used first in each.
RANK_LIMIT = 1000

_trigram_ready: dict[str, bool] = {}


def words_vector_sql(column: str) -> str:
    """SQL of a column's tsvector, split into words the way search_words splits a query (any
    character but a letter or digit separates), so "/flushdns" or "Get-ADUser" in a command
    is found by typing "flushdns" or "get aduser". The stored vectors are made the same way."""
    return f"to_tsvector('{CONFIG}', regexp_replace({column}, '[^[:alnum:]]+', ' ', 'g'))"


def search_words(text: str) -> list[str]:
    """The words of a search box, lower-cased, at most MAX_WORDS of them."""
    return [w[:MAX_WORD_LENGTH] for w in WORD.findall(text.lower())][:MAX_WORDS]


def is_postgres(alias: str = "default") -> bool:
    return connections[alias].vendor == "postgresql"


def prefix_tsquery(words: list[str]) -> str:
    """Every word must match; the last one also as a prefix, so results appear while typing.

    The words hold only letters and digits (search_words), so this raw tsquery has no operator
    but the `&` and `:*` written here."""
    *whole, last = words
    return " & ".join([*whole, f"{last}:*"])


def prefix_query(words: list[str]) -> SearchQuery:
    return SearchQuery(prefix_tsquery(words), search_type="raw", config=CONFIG)


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


class RankedResults:
    """A PostgreSQL search's rows in best-match order, for Django's Paginator and DRF's.

    Ranking every match costs a ts_rank per row: fine for a few hundred, not for the 25,000
    rows a common word finds among 50,000 entries. So the count stops at RANK_LIMIT + 1, and
    - up to RANK_LIMIT matches: ordered by ts_rank over the weighted vector, then `tiebreak`;
    - more: title matches first, then the rest, each by `tiebreak` (most used first). Two
      index-friendly branches of a UNION ALL, each cut at the page's end, then the page's rows.
    - none: close spellings of the title (pg_trgm), if the extension is there; a typo finds
      what it meant, and a real word never pays for the trigram scan.
    Another chosen order (`order`) keeps the same matches and bounded count, without ranking.
    """

    ordered = True  # for Paginator's warning about unordered lists

    def __init__(
        self,
        matches: QuerySet,
        *,
        words: list[str],
        title_column: str,
        title_field: str,
        tiebreak: tuple[str, ...],
        order: tuple | None = None,
    ) -> None:
        self.base = matches
        self.order = order  # another order chosen (most used, recent…): no ranking then
        self.query = prefix_query(words)
        self.words = words
        self.matches = matches.filter(search_vector=self.query)
        self.title_field = title_field
        self.tiebreak = tiebreak
        raw = prefix_tsquery(words)
        # The expression of the title's full-text index (see the 0004 migrations).
        title_match = f"{words_vector_sql(title_column)} @@ to_tsquery('{CONFIG}', %s)"
        self.title_match = RawSQL(title_match, [raw], output_field=BooleanField())
        self.title_miss = RawSQL(f"NOT ({title_match})", [raw], output_field=BooleanField())
        self.typo = False
        self._count: int | None = None

    def count(self) -> int:
        """Exact up to RANK_LIMIT, else RANK_LIMIT + 1 (pages say "1,000+")."""
        if self._count is None:
            self._count = capped_count(self.matches)
            if self._count == 0 and trigram_ready():
                self.typo = True
                lookup = f"{self.title_field}__trigram_strict_word_similar"
                self.matches = self.base.filter(**{lookup: " ".join(self.words)})
                self._count = capped_count(self.matches)
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list:
        if not isinstance(item, slice):
            raise TypeError("RankedResults serves slices (pages) only")
        count = self.count()
        start, stop = item.start or 0, min(item.stop or count, count)
        if start >= stop:
            return []
        if self.order is not None:
            return list(self.matches.order_by(*self.order)[start:stop])
        if count <= RANK_LIMIT:
            if self.typo:
                rank = TrigramStrictWordSimilarity(" ".join(self.words), self.title_field)
            else:
                rank = SearchRank(F("search_vector"), self.query)
            ranked = self.matches.annotate(**{RANK: rank})
            return list(ranked.order_by(F(RANK).desc(), *self.tiebreak)[start:stop])
        return self._tiered(start, stop)

    def _tiered(self, start: int, stop: int) -> list:
        columns = ("pk", "tier", *(name.lstrip("-") for name in self.tiebreak if name != "pk"))
        plain = self.matches.order_by().select_related(None).prefetch_related(None)
        if self.typo:  # one tier: every typo match is a close spelling of the title
            ids = list(plain.order_by(*self.tiebreak).values_list("pk", flat=True)[start:stop])
        else:
            first, rest = plain.filter(self.title_match), plain.filter(self.title_miss)
            branches = [
                branch.annotate(tier=Value(tier))
                .values_list(*columns)
                .order_by(*self.tiebreak)[:stop]
                for tier, branch in ((1, first), (2, rest))
            ]
            union = branches[0].union(branches[1], all=True).order_by("tier", *self.tiebreak)
            ids = [row[0] for row in union[start:stop]]
        rows = {row.pk: row for row in self.matches.order_by().filter(pk__in=ids)}
        return [rows[pk] for pk in ids if pk in rows]


def in_order(
    queryset: QuerySet, *, query: str, chosen: str, orderings: dict[str, tuple], title_field: str
) -> QuerySet | RankedResults:
    """A FilterSet's rows in the chosen order (``orderings`` holds "best" and "popular"). A
    search on PostgreSQL answers RankedResults (full-text match, typo fallback, best match),
    which pages slice; elsewhere "best" is SQLite's title-first rank, or without a search the
    list's own order (most used)."""
    words = search_words(query)
    if words and is_postgres():
        meta = queryset.model._meta
        return RankedResults(
            queryset,
            words=words,
            title_column=f"{meta.db_table}.{meta.get_field(title_field).column}",
            title_field=title_field,
            tiebreak=orderings["popular"],
            order=None if chosen == "best" else orderings[chosen],
        )
    if chosen == "best" and RANK not in queryset.query.annotations:
        chosen = "popular"  # nothing to rank: the list's own order
    return queryset.order_by(*orderings[chosen])


def capped_count(queryset: QuerySet) -> int:
    """COUNT(*) that stops after RANK_LIMIT + 1 rows: a common word among 50,000 rows need not
    be counted to the last one to say "1,000+"."""
    return queryset.order_by().values("pk")[: RANK_LIMIT + 1].count()


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
