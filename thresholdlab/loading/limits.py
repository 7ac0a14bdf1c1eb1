"""Configurable ceilings on what one load may hold: rows, columns, classes.

A shared server can refuse a file that would not fit, with one sentence that says which limit
and what to do, before the rows are indexed. ``None`` means no ceiling (the default: exact mode
is limited by memory, and the file-size limit of :func:`~thresholdlab.loading.load` still holds).
"""

from __future__ import annotations

from dataclasses import dataclass

from thresholdlab.predictions import DataError


@dataclass(frozen=True)
class Limits:
    """Largest number of data rows, table columns and classes :func:`load` accepts."""

    max_rows: int | None = None
    max_columns: int | None = None
    max_classes: int | None = None

    def __post_init__(self):
        for name in ("max_rows", "max_columns", "max_classes"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 1):
                raise DataError(
                    f"The limit {name} is {value!r}; give a whole number of at least 1."
                )

    def check_table(self, file: str, rows: int, columns: int) -> None:
        """Refuse a parsed table past the row or column limit."""
        if self.max_rows is not None and rows > self.max_rows:
            raise DataError(
                f"File '{file}' has {rows:,} data rows, over the limit of {self.max_rows:,}; "
                "load a sample of its rows or use a sketch."
            )
        if self.max_columns is not None and columns > self.max_columns:
            raise DataError(
                f"File '{file}' has {columns:,} columns, over the limit of "
                f"{self.max_columns:,}; keep only the id, label and score columns."
            )

    def check_classes(self, file: str, classes: int) -> None:
        """Refuse a load past the class limit."""
        if self.max_classes is not None and classes > self.max_classes:
            raise DataError(
                f"File '{file}' has {classes:,} classes, over the limit of "
                f"{self.max_classes:,}; keep the classes you need or merge the rare ones."
            )
