"""How loading spells things in its messages, and how files spell a missing value.

Shared by every step, so that a column list or a label reads the same in every sentence.
"""

from __future__ import annotations

import re

import numpy as np

_NA_TEXT = frozenset({
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})
"""How spreadsheets, R and pandas write a missing value (pandas' default missing-value words)."""
_MAX_LISTED = 10


def _quoted(names, limit: int = _MAX_LISTED) -> str:
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _plain(names) -> str:
    names = list(names)
    shown = ", ".join(str(n) for n in names[:_MAX_LISTED])
    return shown + (f" and {len(names) - _MAX_LISTED} more" if len(names) > _MAX_LISTED else "")


def _spell(value) -> str:
    """A label as the file spells it; 1.0 read from a CSV is spelled 1."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


_MAX_SHOWN = 60


def _cell(value) -> str:
    """A cell's text as a message quotes it: long cells are cut, so the message stays one
    readable sentence whatever the file holds."""
    text = str(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN - 3] + "..."


_WORD_PAIRS = (("yes", "no"), ("positive", "negative"), ("pos", "neg"), ("true", "false"))
"""Ways a file spells True/False in its labels (any case): the first pair any label uses names
the mapping in its note ("Labels are pos/neg: ...")."""
_TRUE_WORDS = frozenset(true for true, _ in _WORD_PAIRS)
_FALSE_WORDS = frozenset(false for _, false in _WORD_PAIRS)
TRUE_NAMES = _TRUE_WORDS | {"1"}
FALSE_NAMES = _FALSE_WORDS | {"0", "-1"}
"""Class names that say a class is the positive one, or the negative one (binary labels as
words or numbers)."""


_SEPARATORS = re.compile(r"[ .\-]")


def _normal(column: str) -> str:
    """A column name as the naming rules compare it: no case, and a space, hyphen or dot in
    place of an underscore ("Sample ID", "prob-cat" and R's "true.label" read as sample_id,
    prob_cat and true_label). Same length as the stripped name, so suffixes can be cut from it."""
    return _SEPARATORS.sub("_", str(column).strip().lower())
