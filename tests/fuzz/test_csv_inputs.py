"""CSV and TSV through ``thresholdlab.load``: any bytes end in a correct load or one sentence.

Every test goes through :func:`targets.load_target`, which fails on any exception other than
``DataError``, on a message that is not one sentence naming the file, and on a load that
returned something inconsistent or unusable.
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st

import thresholdlab as tl
from targets import budget, load_target, valid_csv

CLASSES = ("cat", "dog", "eel")


@st.composite
def tables(draw, max_rows: int = 12):
    """A valid multi-class probability table: (labels, probability rows)."""
    n = draw(st.integers(1, max_rows))
    labels = draw(st.lists(st.sampled_from(CLASSES), min_size=n, max_size=n))
    rows = []
    for _ in range(n):
        w = draw(st.lists(st.integers(1, 999), min_size=3, max_size=3))
        total = sum(w)
        rows.append([x / total for x in w])
    return labels, rows


def render(labels, rows, *, sep=",", decimal=".", quote_numbers=False, crlf=False,
           blank_lines=False, bom=False, comment=None, spaces=False) -> bytes:
    header = ["label", *(f"p_{c}" for c in CLASSES)]
    if spaces:
        header = [f" {h} " for h in header]
    out = [sep.join(header)]
    for label, row in zip(labels, rows):
        cells = [repr(x).replace(".", decimal) for x in row]
        if quote_numbers:
            cells = [f'"{c}"' for c in cells]
        out.append(sep.join([label, *cells]))
        if blank_lines:
            out.append("")
    if comment is not None:
        out.insert(0, f"# {comment}")
    text = ("\r\n" if crlf else "\n").join(out) + ("\r\n" if crlf else "\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data


def expected(labels, rows):
    return np.array(rows), np.array([CLASSES.index(c) for c in labels])


def same_data(pset, labels, rows):
    scores, ids = expected(labels, rows)
    assert pset.task == "multiclass" and pset.classes == CLASSES
    assert pset.score_kind == "probability"
    np.testing.assert_array_equal(pset.scores, scores)
    np.testing.assert_array_equal(pset.labels, ids)


# --------------------------------------------------------------------- anything at all
@budget(60)
@given(st.binary(max_size=3000), st.sampled_from(["csv", "tsv"]))
def test_random_bytes(data, kind):
    load_target(kind, data)


_CSV_ALPHABET = st.sampled_from(
    list("0123456789.,;\t\"'\n\r -+eE#")
    + ["label", "p_a", "p_b", "y", "id", "nan", "inf", "NA", "1e308", "1e999", "\u00e9", "\x00",
       "\ufeff", "sep=;", "True", "0.5", "-0.25"]
)


@budget(120)
@given(st.lists(_CSV_ALPHABET, max_size=200).map("".join), st.sampled_from(["csv", "tsv"]))
def test_csv_like_text(text, kind):
    """Text made of what CSV files are made of reaches far deeper than random bytes."""
    load_target(kind, text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_truncation_at_every_byte(crlf):
    data = valid_csv(rows=6)
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    full = load_target("csv", data)
    assert full is not None and full.n_rows == 6
    for end in range(len(data)):
        load_target("csv", data[:end])


# ------------------------------------------------------------- what must keep loading
@budget(25)
@given(tables(), st.sampled_from(
    ["bom", "crlf", "quoted", "blank-lines", "spaces", "semicolon-decimal-comma", "utf-16",
     "utf-16-le-no-bom", "tab", "bom-crlf-quoted"]
))
def test_export_dialects_load_the_same_numbers(table, dialect):
    labels, rows = table
    options = {
        "bom": dict(bom=True), "crlf": dict(crlf=True), "quoted": dict(quote_numbers=True),
        "blank-lines": dict(blank_lines=True), "spaces": dict(spaces=True),
        "semicolon-decimal-comma": dict(sep=";", decimal=","), "tab": dict(sep="\t"),
        "bom-crlf-quoted": dict(bom=True, crlf=True, quote_numbers=True),
        "utf-16": {}, "utf-16-le-no-bom": {},
    }[dialect]
    data = render(labels, rows, **options)
    if dialect == "utf-16":
        data = data.decode().encode("utf-16")
    elif dialect == "utf-16-le-no-bom":
        data = data.decode().encode("utf-16-le")
    pset = load_target("csv", data)
    assert pset is not None, dialect
    same_data(pset, labels, rows)


@budget(20)
@given(tables(), st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
                         max_size=40))
def test_comment_first_line(table, comment):
    """A '#' line before the header: loaded as the same data, or refused in one sentence."""
    labels, rows = table
    pset = load_target("csv", render(labels, rows, comment=comment))
    if pset is not None:
        same_data(pset, labels, rows)


@budget(20)
@given(tables())
def test_latin1_class_names(table):
    """Latin-1 text with accented class names: the same data, or "not UTF-8" in one sentence."""
    labels, rows = table
    data = render(labels, rows).decode().replace("eel", "\u00e9el").encode("latin-1")
    pset = load_target("csv", data)
    if pset is not None:
        assert pset.n_rows == len(rows)


def test_labels_written_as_floats():
    data = b"label,p_x\n1.0,0.9\n0.0,0.2\n1.0,0.6\n"
    pset = load_target("csv", data)
    assert pset.task == "binary" and pset.labels[:, 0].tolist() == [True, False, True]


# ------------------------------------------------------------------ odd headers and sizes
_NAMES = st.sampled_from(["", " ", "label", "y", "id", "p_a", "p_b", "p_a", "logit_a", "y_a",
                          "Unnamed: 0", "p_", "p_\u00e9", '"', "a,b", "index"])


@budget(80)
@given(st.lists(_NAMES, min_size=1, max_size=6),
       st.lists(st.lists(st.sampled_from(["0", "1", "0.5", "-2", "a", "", "0.25", "1e-3"]),
                         min_size=1, max_size=6), min_size=1, max_size=5))
def test_duplicate_and_empty_column_names(names, rows):
    def cell(text):
        return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"') else text

    lines = [",".join(cell(n) for n in names)]
    lines += [",".join(r[: len(names)] + ["0"] * (len(names) - len(r))) for r in rows]
    load_target("csv", ("\n".join(lines) + "\n").encode())


def test_ten_thousand_columns():
    rng = np.random.default_rng(0)
    k = 10_000
    p = rng.dirichlet(np.ones(k), size=3)
    header = "label," + ",".join(f"p_c{i}" for i in range(k))
    rows = [f"c{i}," + ",".join(f"{v:.6g}" for v in row) for i, row in enumerate(p)]
    pset = load_target("csv", ("\n".join([header, *rows]) + "\n").encode())
    assert pset is None or pset.n_classes == k


def test_ten_thousand_unused_columns():
    extra = ",".join(f"x{i}" for i in range(10_000))
    filler = ",".join("z" for _ in range(10_000))
    data = f"label,p_a,{extra}\n1,0.9,{filler}\n0,0.1,{filler}\n".encode()
    pset = load_target("csv", data)
    assert pset is None or pset.n_rows == 2


@pytest.mark.parametrize("where", [
    "label", "score",
    "extra", "header",
])
def test_very_long_cell(where):
    long = "x" * (2 * 1024 * 1024)
    cells = {"label": ["label", "p_a", "note"], "rows": [["1", "0.9", "ok"], ["0", "0.1", "ok"]]}
    if where == "header":
        cells["label"][2] = long
    else:
        column = {"label": 0, "score": 1, "extra": 2}[where]
        cells["rows"][1][column] = long
    lines = [",".join(cells["label"]), *(",".join(r) for r in cells["rows"])]
    pset = load_target("csv", ("\n".join(lines) + "\n").encode())
    assert (pset is not None) == (where in ("extra", "header"))


def test_what_already_held_still_holds():
    """The exports the loader was checked against by hand keep loading."""
    base = valid_csv(rows=5)
    for data in (
        b"\xef\xbb\xbf" + base, base.replace(b"\n", b"\r\n"), base.decode().encode("utf-16"),
        base.replace(b"\n", b"\n\n"), base.replace(b"id,label", b" id , label "),
    ):
        pset = tl.load(data, name="x.csv")
        assert pset.n_rows == 5 and pset.classes == CLASSES
