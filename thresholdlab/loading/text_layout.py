"""Step 2a, for text tables: how the text is laid out, from its first lines.

Real exports differ from a plain CSV in a few well-known ways, all settled here before parsing:

- the delimiter (comma, semicolon, tab, pipe, or runs of spaces as ``numpy.savetxt`` and R's
  ``write.table`` write by default) and the decimal mark;
- lines starting with ``#`` above the header: comments (a tool's banner), or the header itself
  when ``numpy.savetxt(..., header=...)`` wrote it as ``# label,p_a,p_b``;
- one value more in every row than the header names: R's row names (``write.table`` with its
  defaults) or a delimiter ending every row.

Nothing here knows what a column means.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field

from thresholdlab.predictions import DataError

SNIFF_BYTES = 64 * 1024
"""The head of a file the layout is read from."""

SPACES = " "
"""The delimiter :func:`sniff_dialect` gives for columns separated by runs of spaces."""

_CANDIDATES = (",", ";", "\t", "|")
_SNIFF_LINES = 21


@dataclass(frozen=True)
class TextLayout:
    """How a text table is laid out, and how to parse it.

    Attributes
    ----------
    sep : str
        The delimiter; :data:`SPACES` for runs of spaces.
    decimal : str
        ``"."`` or ``","``.
    notes : list of str
        One sentence for each way the file differs from a plain comma-separated file.
    skip : int
        Bytes before the header (after a byte-order mark): the comment lines.
    header : str or None
        The header line to read instead of the file's own, when a ``#`` line is the header.
    extra : str or None
        ``"row names"`` when every row holds one value more than the header names, first;
        ``"end"`` when that value is an empty one after a delimiter ending every row.
    """

    sep: str
    decimal: str
    notes: list[str] = field(default_factory=list)
    skip: int = 0
    header: str | None = None
    extra: str | None = None

    @property
    def plain(self) -> bool:
        """Whether pyarrow's CSV parser reads the file as it is."""
        return (self.sep != SPACES and not self.skip and self.header is None
                and self.extra is None)

    def text(self, data: bytes) -> bytes:
        """The file's text from its header on, with a ``#`` header without its ``#``."""
        if not self.skip and self.header is None:
            return data
        start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
        rest = data[start + self.skip:]
        if self.header is not None:
            end = re.search(rb"\r\n|\r|\n", rest)  # the '#' line, whatever ends it
            rest = self.header.encode("utf-8") + b"\n" + (rest[end.end():] if end else b"")
        return rest

    def row_names_kept(self, frame):
        """``frame`` as ``pandas.read_csv`` parsed it with :meth:`pandas_options`, its row
        names (the index) a column again: unnamed, as R's write.csv leaves them, so an id
        column like any other."""
        return frame.reset_index(names="Unnamed: 0") if self.extra == "row names" else frame

    def pandas_options(self) -> dict:
        """``pandas.read_csv`` options (C engine) that parse the text as laid out."""
        sep = r"\s+" if self.sep == SPACES else self.sep
        # The C engine takes a first value no header names as the index by itself; say so, and
        # never for a delimiter ending each row, which would shift every column by one.
        index = {"row names": 0, "end": False}.get(self.extra)
        return {"sep": sep, "decimal": self.decimal, "index_col": index}


def text_layout(text: str, file: str, sep: str | None = None) -> TextLayout:
    """The layout of a text table from its head (decoded, without a byte-order mark).

    ``sep`` is a delimiter known beforehand (tab for ``.tsv``, an Excel ``sep=`` line); only
    the decimal mark and the lines around the header are then read from the head.
    """
    text = text[:SNIFF_BYTES]
    lines = text.splitlines(keepends=True)
    cut = len(text) >= SNIFF_BYTES
    if cut and len(lines) > 1:
        lines = lines[:-1]  # the last line of the head may be cut short
    comments = 0
    while comments < len(lines) and (_is_comment(lines[comments]) or not lines[comments].strip()):
        comments += 1
    if not any(_is_comment(line) for line in lines[:comments]) or (
            comments == len(lines) and _delimited(lines[0], sniff_dialect(text, sep)[0])):
        # No '#' line, or every line starts with one and holds fields ('#id' over ids like
        # '#17'): plain text.
        sep, decimal, notes = sniff_dialect(text, sep)
        return _with_extra(TextLayout(sep, decimal, notes), lines)
    hashed = [i for i in range(comments) if lines[i].strip()]
    below = [line for line in lines[comments:] if line.strip()][:_SNIFF_LINES]
    if not below:
        raise DataError(
            f"File '{file}' has only lines starting with '#' (comments), no header or rows; "
            "choose a file with a header and data rows."
        )
    first, rest = below[0], below[1:]
    sep_here, decimal, notes = sniff_dialect("".join(below), sep)
    header = lines[hashed[-1]].lstrip("#").strip()
    hashed_sep = sniff_dialect("".join([header + "\n", *below]), sep)[0]
    fits = len(split_line(header, hashed_sep)) == len(split_line(first, hashed_sep))
    numbers = all(_is_number(v, decimal) for v in split_line(first, sep_here))
    if _names_columns(first, rest, sep_here, decimal) or not (fits or numbers):
        # The first line below is the header: the '#' lines are comments.
        notes.insert(0, _comments_note(len(hashed)))
        skip = _bytes(lines[:comments])
        return _with_extra(TextLayout(sep_here, decimal, notes, skip), lines[comments:])
    # The first line below the '#' lines is data: the last '#' line is the header, as
    # numpy.savetxt(..., header=...) writes it.
    sep_here, decimal, notes = sniff_dialect("".join([header + "\n", *below]), sep)
    if not fits:
        raise DataError(
            f"File '{file}' has no header naming its columns: the first line below the lines "
            "starting with '#' is already data; add a header line (for example "
            "label,p_cat,p_dog) above it and load the file again."
        )
    notes.insert(0, "The header line starts with '#', as numpy.savetxt writes it, and is read "
                    "without the '#'.")
    if len(hashed) > 1:
        notes.insert(1, _comments_note(len(hashed) - 1))
    skip = _bytes(lines[:hashed[-1]])
    return _with_extra(TextLayout(sep_here, decimal, notes, skip, header),
                       [header + "\n", *lines[comments:]])


def sniff_dialect(text: str, sep: str | None = None) -> tuple[str, str, list[str]]:
    """Delimiter and decimal mark from the first lines of a CSV.

    The header decides: it holds no numbers, so a decimal comma cannot be mistaken for the
    delimiter there. Among delimiters present in the header, one that splits the next lines into
    the same number of fields wins; ties go to the most fields. A header with none of them but
    spaces between its names, whose rows split on spaces consistently, is separated by spaces.
    A delimiter known beforehand (``sep``: tab for ``.tsv``, or an Excel ``sep=`` line) is taken
    as it is, and only the decimal mark is sniffed.
    """
    lines = [line for line in text.splitlines()[:_SNIFF_LINES] if line.strip()]
    if not lines:
        return sep or ",", ".", []
    if len(text) >= SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of the head may be cut short
    header, body = lines[0], lines[1:]
    notes = []
    if sep is not None:
        best = sep
    else:
        best, best_key = ",", None
        for candidate in _CANDIDATES:
            fields = _count_outside_quotes(header, candidate)
            if fields == 0:
                continue
            consistent = all(_count_outside_quotes(line, candidate) == fields for line in body)
            key = (consistent, fields)
            if best_key is None or key > best_key:
                best, best_key = candidate, key
        if best_key is None and _split_by_spaces(header, body):
            best = SPACES
        if best != ",":
            word = {";": "semicolons", "\t": "tabs", "|": "pipes", SPACES: "spaces"}[best]
            notes.append(f"Columns are separated by {word}.")
    decimal = "."
    sample = "\n".join(body)
    if best != "," and re.search(r"\d,\d", sample) and not re.search(r"\d\.\d", sample):
        decimal = ","
        notes.append("Numbers use a decimal comma.")
    return best, decimal, notes


def split_line(line: str, sep: str) -> list[str]:
    """The fields of one line of the table, quotes removed."""
    if sep == SPACES:
        line = line.strip()
        return next(csv.reader([line], delimiter=" ", skipinitialspace=True), []) if line else []
    return next(csv.reader([line.rstrip("\r\n")], delimiter=sep), [])


def _split_by_spaces(header: str, body: list[str]) -> bool:
    """Whether a header with none of the usual delimiters is split by spaces: two names or
    more, and every line below with as many values (or one more, for row names)."""
    names = len(split_line(header, SPACES))
    if names < 2 or not body:
        return False
    counts = {len(split_line(line, SPACES)) for line in body}
    return counts == {names} or counts == {names + 1}


def _with_extra(layout: TextLayout, lines: list[str]) -> TextLayout:
    """``layout`` with ``extra`` set when every row of the head holds one value more than the
    header names."""
    rows = [line for line in lines if line.strip()][:_SNIFF_LINES]
    if len(rows) < 2:
        return layout
    names = len(split_line(rows[0], layout.sep))
    values = [split_line(line, layout.sep) for line in rows[1:]]
    if any(len(v) != names + 1 for v in values):
        return layout
    if all(not v[-1].strip() for v in values):
        note = "Every row ends with a delimiter after its last value; the empty field is ignored."
        extra = "end"
    elif len({v[0].strip() for v in values}) < len(values) \
            or not all(line.lstrip().startswith('"') for line in rows[1:]):
        # R quotes each row's name; repeated or unquoted first values name no rows (a decimal
        # comma under a comma delimiter, an id column beside it).
        return layout
    else:
        note = ("Each row has one value more than the header names: the first is read as row "
                "names, as R's write.table writes them.")
        extra = "row names"
    return TextLayout(layout.sep, layout.decimal, [*layout.notes, note], layout.skip,
                      layout.header, extra)


def _delimited(line: str, sep: str) -> bool:
    """Whether ``line`` holds fields between delimiters (spaces between words do not count)."""
    return sep != SPACES and len(split_line(line, sep)) > 1


def _is_comment(line: str) -> bool:
    """A line starting with '#', unless the '#' is a column's whole name (``#,label,p``)."""
    return line.startswith("#") and line[1:2] not in (",", ";", "\t", "|")


def _names_columns(line: str, below: list[str], sep: str, decimal: str) -> bool:
    """Whether ``line`` is a header over the ``below`` lines: it holds a name where every line
    below holds a number (or, with no line below, it holds no number at all)."""
    names = split_line(line, sep)
    rows = [split_line(other, sep) for other in below]
    if not rows:
        return not any(_is_number(name, decimal) for name in names)
    for j, name in enumerate(names):
        column = [row[j] for row in rows if j < len(row) and row[j].strip()]
        if column and all(_is_number(v, decimal) for v in column) and name.strip() \
                and not _is_number(name, decimal):
            return True
    return False


def _is_number(value: str, decimal: str) -> bool:
    value = value.strip()
    if decimal == ",":
        value = value.replace(",", ".")
    try:
        float(value)
    except ValueError:
        return False
    return True


def _count_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


def _bytes(lines: list[str]) -> int:
    return len("".join(lines).encode("utf-8"))


def _comments_note(count: int) -> str:
    if count == 1:
        return "The line starting with '#' above the header is a comment and is skipped."
    return f"The {count} lines starting with '#' above the header are comments and are skipped."
