"""Where the SQL of the payout queries differs between SQLite and PostgreSQL, side by side.

The queries in `payout_queries` are written once; the few pieces that cannot be (how a text search finds its
rows, how a filter is kept off an index, how "no limit" is written) come from the connection's dialect. Each
connection carries its own (`link.dialect`), so a repository never asks which backend it is on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What the search looks in (the full-text table's columns on SQLite, the trigram-indexed text on PostgreSQL).
SEARCHED_COLUMNS = ("address", "reference", "note", "idempotency_key", "provider_payout_id", "tx_hash")
# The trigram index looks three characters at a time; a shorter search cannot use it.
TRIGRAM_MIN_LENGTH = 3


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own wildcards in the text escaped, so that `50%` means fifty percent."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(text: str) -> str:
    """The user's text as one FTS5 phrase: inside double quotes, `OR`, `*`, `NEAR(`, `:` … are plain characters."""
    return '"' + text.replace('"', '""') + '"'


@dataclass(frozen=True)
class SqliteDialect:
    """A desk's own file. SQLite plans without statistics, so the queries steer it (`index_hints`)."""

    name: str = "sqlite"
    index_hints: bool = True  # the repository counts and chooses between a filter's index and the sort's
    # Many rows through a temporary table and one INSERT … SELECT ("stage"), or COPY into one ("copy").
    bulk_inserts: str = "stage"
    no_limit: int = -1

    def off_index(self, expression: str) -> str:
        """`+column`: the same value, but SQLite will not serve it from an index."""
        return f"+{expression}"

    def text_search(self, text: str, id_column: str = "id") -> tuple[str, list[Any]]:
        """Payouts whose searched columns contain `text` (case-insensitive, literally): the trigram full-text
        table for three characters or more, LIKE over the columns for fewer."""
        if len(text) >= TRIGRAM_MIN_LENGTH:
            return f"{id_column} IN (SELECT rowid FROM payouts_search WHERE payouts_search MATCH ?)", [fts_phrase(text)]
        clause = "(" + " OR ".join(f"{name} LIKE ? ESCAPE '\\'" for name in SEARCHED_COLUMNS) + ")"
        return clause, [like_pattern(text)] * len(SEARCHED_COLUMNS)


# The searched columns as one text, as the PostgreSQL schema's trigram index holds it (`payout_search_text`):
# the unit separator between them can never be typed into a search (control characters are refused), so a
# match never runs across two columns.
POSTGRES_SEARCH_TEXT = f"payout_search_text({', '.join(SEARCHED_COLUMNS)})"


@dataclass(frozen=True)
class PostgresDialect:
    """A team ledger. PostgreSQL keeps statistics and plans for itself: no hints, and no counting to choose."""

    name: str = "postgresql"
    index_hints: bool = False
    # COPY, the server's bulk path: a row costs a fraction of an INSERT's round of parsing, and one INSERT … SELECT
    # from the copied rows fires the statement-level triggers (counts, the change feed) once per batch.
    bulk_inserts: str = "copy"
    no_limit: None = None  # LIMIT NULL: no limit (a negative one is an error)

    def off_index(self, expression: str) -> str:
        return expression

    def text_search(self, text: str, id_column: str = "id") -> tuple[str, list[Any]]:
        """ILIKE over the columns run together, answered by the pg_trgm index on that text (three characters or
        more; shorter ones read the table, as SQLite's LIKE does)."""
        return f"{POSTGRES_SEARCH_TEXT} ILIKE ? ESCAPE '\\'", [like_pattern(text)]


SQLITE = SqliteDialect()
POSTGRES = PostgresDialect()
Dialect = SqliteDialect | PostgresDialect
