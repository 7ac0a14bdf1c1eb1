"""Configurable ceilings on what one load may hold: rows, columns, classes.

A shared server can refuse a file that would not fit, with one sentence that says which limit
and what to do, before the rows are indexed. ``None`` means no ceiling (the default: exact mode
is limited by memory, and the file-size limit of :func:`~thresholdlab.loading.load` still holds).

Whoever runs the command line or the dashboard sets them with environment variables, read by
:meth:`Limits.from_env` each time a file is loaded::

    THRESHOLDLAB_MAX_ROWS=5000000 THRESHOLDLAB_MAX_CLASSES=1000 thresholdlab app
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from thresholdlab.predictions import DataError


ENV = {
    "max_rows": "THRESHOLDLAB_MAX_ROWS",
    "max_columns": "THRESHOLDLAB_MAX_COLUMNS",
    "max_classes": "THRESHOLDLAB_MAX_CLASSES",
}
"""The environment variable that sets each limit (unset or empty: no ceiling)."""


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits | None:
        """The limits set in the environment (see :data:`ENV`); None when none is set."""
        environ = os.environ if environ is None else environ
        given = {}
        for name, variable in ENV.items():
            text = environ.get(variable, "").strip()
            if not text:
                continue
            value = text.replace("_", "").replace(",", "")
            if not value.isdigit() or int(value) < 1:
                raise DataError(
                    f"The setting {variable}={text!r} is not a whole number of at least 1; "
                    "fix it or unset it for no limit."
                )
            given[name] = int(value)
        return cls(**given) if given else None

    @property
    def key(self) -> str:
        """A short text that tells limits apart, for cache keys."""
        return f"{self.max_rows}:{self.max_columns}:{self.max_classes}"

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
