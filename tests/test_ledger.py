"""The run's memory of every row: exact duplicate ids and distinct profiles, in bounded memory."""

from __future__ import annotations

import tracemalloc

from hipcoach.batch.ledger import Ledger


def test_duplicates_are_exact_and_in_order() -> None:
    ledger = Ledger()
    ledger.add(["b", "a", "c"], [2, 3, 4], [(1, 2), (1, 3)])
    ledger.add(["a", "d", "b", "a"], [5, 6, 7, 8], [(1, 2), (2, 2)])
    assert ledger.duplicates() == {"a": [3, 5, 8], "b": [2, 7]}
    assert ledger.distinct_profiles() == 3
    ledger.close()


def test_memory_stays_flat_as_rows_double() -> None:
    """What Python holds does not grow with the rows (a dict of ids did, ~70 bytes a row)."""
    held = []
    for rows in (100_000, 200_000):
        ledger = Ledger()
        tracemalloc.start()
        for start in range(0, rows, 5_000):
            numbers = range(start, start + 5_000)
            ledger.add((f"respondent-{n % (rows - 7)}" for n in numbers), numbers,
                       [(n % 97, n % 89) for n in numbers])
        assert len(ledger.duplicates()) == 7
        held.append(tracemalloc.get_traced_memory()[0])
        tracemalloc.stop()
        ledger.close()
    assert held[1] < 2 * 1024 * 1024  # the ids alone would be over 10 MiB in a dict
