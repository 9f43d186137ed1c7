"""What a scoring run must remember of every row, in a bounded amount of memory.

Duplicate respondent ids and the count of distinct answer profiles need every id and every
profile seen, however many rows there are: held in dicts and sets they grew about 70 bytes a
row. They are kept instead in a private temporary SQLite database (stdlib), which holds a few
MiB of pages in memory and the rest on disk; the file has no name in any folder (SQLite unlinks
it at once) and goes when the run ends, however it ends. Duplicates are found at the end by one
indexed pass, exactly.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

#: Pages of the database held in memory, in KiB (SQLite's negative cache_size).
CACHE_KIB = 8 * 1024


class Ledger:
    """Every row's respondent id and every distinct profile of one run."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")  # "": a private, temporary, on-disk database
        self.db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("CREATE TABLE ids (ident TEXT NOT NULL, line INTEGER NOT NULL)")
        self.db.execute("CREATE TABLE profiles (profile TEXT PRIMARY KEY) WITHOUT ROWID")

    def add(self, ids: Iterable[str], lines: Iterable[int], profiles: Iterable[tuple[int, ...]]
            ) -> None:
        """Note scored rows' ids (with their row numbers) and their profiles."""
        with self.db:
            self.db.executemany("INSERT INTO ids VALUES (?, ?)", zip(ids, lines))
            self.db.executemany("INSERT OR IGNORE INTO profiles VALUES (?)",
                                ((",".join(map(str, profile)),) for profile in profiles))

    def distinct_profiles(self) -> int:
        count: int = self.db.execute("SELECT count(*) FROM profiles").fetchone()[0]
        return count

    def duplicates(self) -> dict[str, list[int]]:
        """Each id on more than one row, in id order, with its rows in order."""
        self.db.execute("CREATE INDEX IF NOT EXISTS by_ident ON ids (ident, line)")
        found: dict[str, list[int]] = {}
        for ident, line in self.db.execute(
                "SELECT ident, line FROM ids WHERE ident IN "
                "(SELECT ident FROM ids GROUP BY ident HAVING count(*) > 1) ORDER BY ident, line"):
            found.setdefault(ident, []).append(line)
        return dict(sorted(found.items()))

    def close(self) -> None:
        self.db.close()
