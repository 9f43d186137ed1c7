"""The outputs of a scoring run made from the others once every row is written: the data
package describing them, the report, and the Parquet copies of the tables.

They are written into the same set of temporary files as the tables (:class:`..atomic.AtomicFiles`),
so the whole set appears at once or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TextIO

from ..errors import ExtraError
from ..formats import Summary
from ..planning.planner import Planner
from .report import Collector, Extras, figures
from .tables import Table, datapackage, tables


class Asked(Protocol):
    """What a run asked for of these outputs (the run's options, :class:`.score.Options`)."""

    @property
    def report(self) -> bool: ...
    @property
    def parquet(self) -> bool: ...
    @property
    def small_cell(self) -> bool: ...

OTHERS = {"summary.json": ("application/json", "The run's counts: rows in, scored, rejected "
                                               "by column, and the findings' counts."),
          "report.html": ("text/html", "The report: who to contact first, findings, groups "
                                       "and rule coverage, printable."),
          "traces.jsonl": ("application/jsonl", "Every scored respondent's rule trace (--traces).")}


def require(options: Asked) -> None:
    """Refuse, before anything is read, an output whose optional extra is missing."""
    if options.parquet:
        try:
            import pyarrow  # noqa: F401  (only whether it is there)
        except ImportError:
            raise ExtraError("the parquet output needs pyarrow: pip install 'hipcoach[parquet]'",
                             "parquet") from None


def finish(streams: dict[str, TextIO], summary: Summary, planner: Planner,
           options: Asked, extras: Extras, collector: Collector) -> None:
    """Write datapackage.json and, if asked for, report.html and the Parquet tables into
    ``streams`` (output name -> its temporary file), once the tables are complete."""
    described = tables(planner.kb, planner.rulebase, extras.kept)
    if options.report:
        from ..present.report import report_html

        streams["report.html"].write(report_html(figures(
            summary, collector, planner.kb, planner.rulebase, planner.provenance,
            options.small_cell)))
    others = tuple((name, *OTHERS[name]) for name in OTHERS if name in streams)
    if options.parquet:
        for table in described:
            _parquet(table, streams[table.path], streams[table.path.replace(".csv", ".parquet")])
        others += tuple((table.path.replace(".csv", ".parquet"), "application/vnd.apache.parquet",
                         f"{table.path} as Parquet, with the same columns and types.")
                        for table in described)
    streams["datapackage.json"].write(datapackage(summary["survey"], planner.provenance,
                                                  described, others))


def _parquet(table: Table, csv: TextIO, out: TextIO) -> None:
    """``csv`` (a complete table, still open) read back and written to ``out`` as Parquet."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    types: dict[str, Callable[[], Any]] = {"string": pa.string, "integer": pa.int64,
                                           "number": pa.float64, "boolean": pa.bool_}
    csv.flush()
    # the temporary file is open for reading too: read it from the start on a second handle
    with os.fdopen(os.dup(csv.fileno()), "rb") as source:
        source.seek(0)
        read = pacsv.read_csv(source, convert_options=pacsv.ConvertOptions(
            column_types={f.name: types[f.type]() for f in table.fields},
            strings_can_be_null=True, true_values=["true"], false_values=["false"]))
        source.seek(0, os.SEEK_END)
    out.flush()
    pq.write_table(read, out.buffer)
    out.buffer.flush()
