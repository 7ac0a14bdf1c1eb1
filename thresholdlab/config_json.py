"""Config JSON read strictly, and the words config messages use.

Python's ``json`` accepts what a config must not hold (``NaN``, ``Infinity``, a key given twice,
where it keeps only the last); :func:`_parse` keeps each of them to be reported by its path.
:func:`_validate_document` checks a parsed document against ``config_schema.json`` (shipped in
the package) and words the first problem as one sentence from the schema's ``x-message``.
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import re
from collections.abc import Mapping
from importlib import resources

import numpy as np

from thresholdlab.predictions import DataError

SCHEMA_FILE = "config_schema.json"


class _NonFinite:
    """A NaN, Infinity or out-of-range number in the JSON text, kept to be reported by path."""

    def __init__(self, token: str):
        self.token = token

    def __repr__(self) -> str:
        return self.token


class _Object(dict):
    """A JSON object that remembers keys it saw twice (json keeps only the last)."""

    duplicates: tuple[str, ...] = ()


def _pairs(pairs):
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set = set()
        obj.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))
    return obj


def _parse_float(token: str):
    value = float(token)
    return value if math.isfinite(value) else _NonFinite(token)


def _parse(text: str, source: str):
    try:
        return json.loads(
            text, parse_float=_parse_float, parse_constant=_NonFinite, object_pairs_hook=_pairs
        )
    except json.JSONDecodeError as e:
        raise DataError(
            f"Config {source!r} is not valid JSON: line {e.lineno}, column {e.colno}: {e.msg}."
        ) from None
    except (ValueError, RecursionError) as e:  # e.g. an integer with too many digits
        raise DataError(f"Config {source!r} is not valid JSON: {str(e).rstrip('.')}.") from None


def _walk(node, path=()):
    """(path, node) for every node, parents before children, in document order."""
    # A stack instead of nested generators: each value of a large config (metrics of many
    # classes) is visited once, not passed up through every enclosing generator.
    stack = [(path, node)]
    while stack:
        path, node = stack.pop()
        yield path, node
        if isinstance(node, dict):
            stack.extend(((*path, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*path, i), node[i]) for i in reversed(range(len(node))))


@functools.lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files("thresholdlab").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def config_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a threshold config, as shipped in the package."""
    return json.loads(_schema_text())


@functools.lru_cache(maxsize=1)
def _validator():
    import jsonschema  # lazy: only reading a config needs it

    return jsonschema.Draft202012Validator(config_schema())


def _validate_document(doc, source: str) -> None:
    """Raise DataError for the first problem: duplicate key, schema violation, NaN in metrics."""
    for path, node in _walk(doc):
        if isinstance(node, _Object) and node.duplicates:
            where = f"Config {source!r}: {_path(path)}" if path else f"Config {source!r}"
            raise DataError(f"{where} has the key {node.duplicates[0]!r} more than once.")
    from jsonschema.exceptions import best_match

    error = best_match(_validator().iter_errors(doc))
    if error is not None:
        raise DataError(_schema_message(error, source)) from None
    for path, node in _walk(doc):
        if isinstance(node, _NonFinite):
            raise DataError(
                f"Config {source!r}: {_path(path)} is {node.token}, which is not a finite "
                f"number; write null for an undefined value."
            )


def _schema_message(error, source: str) -> str:
    """One sentence for a jsonschema error, worded from the schema's ``x-message`` templates."""
    path = list(error.absolute_path)
    where = _path(path) if path else "the config"
    prefix = f"Config {source!r}"
    if error.validator == "required":
        missing = next(k for k in error.validator_value if k not in error.instance)
        if path:
            return f"{prefix}: {where} is missing the required field {missing!r}."
        return f"{prefix} is missing the required field {missing!r}."
    if error.validator == "additionalProperties" and error.validator_value is False:
        known = list(error.schema.get("properties", {}))
        extra = next(k for k in error.instance if k not in known)
        close = difflib.get_close_matches(extra, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        if path:
            return f"{prefix}: {where} has an unknown field {extra!r}{hint}."
        return f"{prefix} has an unknown field {extra!r}{hint}."
    if error.validator == "uniqueItems":
        items = list(error.instance)
        dup = next(v for i, v in enumerate(items) if v in items[:i])
        return f"{prefix}: {where} lists {_show(dup)} more than once."
    template = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if template:
        text = template.format(path=where, value=_show(error.instance))
        if not path:  # "Config 'x.json' must be a JSON object, ..."
            return f"{prefix} {text.removeprefix(where).lstrip()}."
        return f"{prefix}: {text}."
    return f"{prefix}: {where}: {error.message.rstrip('.')}."


_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _path(parts) -> str:
    """JSON path as users read it: thresholds.cat, thresholds["a b"], classes[2]."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif _SIMPLE_KEY.match(p):
            out += f".{p}" if out else p
        else:
            out += f"[{json.dumps(p, ensure_ascii=False)}]"
    return out


def _show(value) -> str:
    """A value in a message: strings quoted, containers by kind, JSON spellings for literals."""
    if isinstance(value, _NonFinite):
        return value.token
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _names(names, limit: int = 10) -> str:
    """'a', 'b' and 3 more."""
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"
