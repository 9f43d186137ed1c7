"""CSV cells that are safe to open in a spreadsheet.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets (CSV injection). Every CSV hipcoach writes passes its text
cells through :func:`neutralise`, which prefixes such a cell with a single quote, the usual
spreadsheet mark for "this is text".
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading quote if it is text a spreadsheet would run; else unchanged."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def row_text(cells: Iterable[Any]) -> str:
    """One CSV record (``\\n``-terminated), every cell neutralised and quoted where needed."""
    buffer = io.StringIO()
    # "\r\n" as the terminator makes the writer quote a cell holding a lone CR too (with "\n"
    # it would not, and the CR would split the record); the record itself ends in "\n".
    csv.writer(buffer, lineterminator="\r\n").writerow([neutralise(cell) for cell in cells])
    return buffer.getvalue()[:-2] + "\n"


#: What makes a cell's text differ from the cell as written: quoting or neutralising.
_SPECIAL = re.compile(r'[",\r\n]|^[=+\-@\t\r]|^$')


def cell_texts(values: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """Each text of ``values`` as one CSV cell (``row_text([value])`` without its newline): the
    text itself, unless it needs quoting or neutralising. Batch scoring writes a whole chunk's
    id cells at once; only the few that need care go through the CSV writer."""
    cells = values.copy()
    for index, value in enumerate(values.tolist()):
        if _SPECIAL.search(value):
            cells[index] = row_text([value])[:-1]
    return cells
