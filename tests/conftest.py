"""Shared test data: the table of bad prediction files and the one sentence each must produce.

Any test that takes a ``bad_input`` argument runs once per row of :data:`BAD_INPUTS`
(``tests/core/test_loading.py`` through :func:`thresholdlab.loading.load`,
``tests/core/test_cli_inspect.py`` through the command line, in-process and as a subprocess).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

GIB = 1024**3


@dataclass(frozen=True)
class BadInput:
    """A bad file (text, bytes or a writer), the overrides it is loaded with, the message."""

    id: str
    name: str
    content: str | bytes | Callable[[Path], None] | None
    fragment: str
    overrides: dict = field(default_factory=dict)

    def make(self, directory: Path) -> Path:
        """Write the file into ``directory``; None content means the file does not exist."""
        path = directory / self.name
        if isinstance(self.content, str):
            path.write_text(self.content, encoding="utf-8")
        elif isinstance(self.content, bytes):
            path.write_bytes(self.content)
        elif callable(self.content):
            self.content(path)
        return path

    @property
    def uploadable(self) -> bool:
        """A file a user could drop on the dashboard's uploader: it exists, needs no overrides
        and is under the upload limit."""
        return self.content is not None and not self.overrides and self.id != "too-big"

    def cli_options(self) -> list[str]:
        """The overrides as command-line options (``--label-col X``, lists comma-joined)."""
        out = []
        for key, value in self.overrides.items():
            out.append("--" + key.replace("_", "-"))
            out.append(",".join(value) if isinstance(value, (list, tuple)) else str(value))
        return out


def _npz(**arrays) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        path.write_bytes(buffer.getvalue())

    return write


def _pt(obj_factory) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        import torch

        torch.save(obj_factory(torch), path)

    return write


def _parquet(frame_factory) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame_factory().to_parquet(path)

    return write


def _sparse(size: int) -> Callable[[Path], None]:
    """A file that reports ``size`` bytes without taking the disk space (never read)."""

    def write(path: Path) -> None:
        with open(path, "wb") as f:
            f.truncate(size)

    return write


def _empty_frame():
    import pandas as pd

    return pd.DataFrame({"label": pd.Series([], dtype="int64"), "p_a": pd.Series([], dtype=float)})


def _parquet_table_with_repeated_name(path: Path) -> None:
    """pyarrow writes repeated column names, which pandas cannot."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = [pa.array([0, 1]), pa.array([0.1, 0.9]), pa.array([0.2, 0.8])]
    pq.write_table(pa.Table.from_arrays(columns, names=["label", "p_a", "p_a"]), path)


BAD_INPUTS = [
    BadInput("empty", "empty.csv", b"", "File 'empty.csv' is empty; choose a file"),
    BadInput("blank", "blank.csv", "\n  \n\n", "File 'blank.csv' is empty"),
    BadInput(
        "header-only", "header.csv", "label,p_cat\n",
        "File 'header.csv' has a header but no data rows; add the rows",
    ),
    BadInput(
        "not-a-number", "x.csv", "label,p_cat\n1,0.5\n0,0.2\n1,abc\n",
        "File 'x.csv', column 'p_cat', row 3: 'abc' is not a number; fix the value or choose the "
        "score columns with --score-cols.",
    ),
    BadInput(
        "missing-score", "gap.csv", "label,p_cat\n1,0.5\n0,\n",
        "File 'gap.csv', column 'p_cat', row 2: the score is missing or NaN; every score must be "
        "a finite number",
    ),
    BadInput(
        "nan-score", "nan.csv", "label,p_a,p_b\n0,0.5,0.5\n1,0.2,0.8\n1,0.1,nan\n",
        "File 'nan.csv', column 'p_b', row 3: the score is missing or NaN",
    ),
    BadInput(
        "inf-score", "inf.csv", "label,logit_a,logit_b\n0,1,2\n1,inf,3\n",
        "File 'inf.csv', column 'logit_a', row 2: the score is infinite (inf)",
    ),
    BadInput(
        "minus-inf-score", "ninf.csv", "y,score\n0,1.5\n1,-inf\n",
        "File 'ninf.csv', column 'score', row 2: the score is infinite (-inf)",
    ),
    BadInput(
        "missing-label", "nolabel.csv", "label,p_x\n1,0.2\n0,0.4\n,0.3\n",
        "File 'nolabel.csv', column 'label', row 3: the label is missing; fill it in or drop "
        "the row.",
    ),
    BadInput(
        "text-label-no-class", "zoo.csv", "label,p_a,p_b,p_c\na,.1,.2,.7\nb,.5,.3,.2\nz,.3,.3,.4\n",
        "File 'zoo.csv', column 'label', row 3: label 'z' matches no class; labels must name a "
        "class (a, b, c) or number them 0..2 (or 1..3)",
    ),
    BadInput(
        "number-label-no-class", "num.csv",
        "target,p_a,p_b,p_c\n0,.1,.2,.7\n2,.5,.3,.2\n5,.3,.3,.4\n",
        "File 'num.csv', column 'target', row 3: label '5' matches no class",
    ),
    BadInput(
        "binary-label-no-class", "bin.csv", "label,p_fraud\n0,0.1\n1,0.9\n2,0.5\n",
        "File 'bin.csv', column 'label', row 3: label '2' matches no class; binary labels must be "
        "0/1, True/False or -1/1",
    ),
    BadInput(
        "binary-labels-ambiguous", "spam.csv", "label,score\nham,0.1\nspam,0.9\n",
        "File 'spam.csv', column 'label': cannot tell which of the labels 'ham', 'spam' is the "
        "positive class",
    ),
    BadInput(
        "binary-third-text-label", "fraud.csv", "label,p_fraud\nfraud,0.9\nlegit,0.1\nmaybe,0.5\n",
        "File 'fraud.csv', column 'label', row 3: label 'maybe' matches no class",
    ),
    BadInput(
        "truth-not-0-1", "ml.csv", "y_a,y_b,p_a,p_b\n0,1,.1,.2\n2,0,.3,.4\n",
        "File 'ml.csv', column 'y_a', row 2: truth value '2' is not 0 or 1",
    ),
    BadInput(
        "row-too-many-fields", "wide.csv", "label,p_a\n1,0.2\n0,0.3,9\n",
        "File 'wide.csv', row 2: 3 fields but the header has 2 (more values than columns)",
    ),
    BadInput(
        "row-too-few-fields", "short.csv", "label,p_a,p_b\n1,0.2,0.8\n0,0.4,0.6\n0,0.3\n",
        "File 'short.csv', row 3: 2 fields but the header has 3 (fewer values than columns)",
    ),
    BadInput(
        "npz-length-mismatch", "m.npz",
        _npz(scores=np.array([0.1, 0.5, 0.9]), labels=np.array([0, 1])),
        "File 'm.npz': array 'scores' has 3 rows but array 'labels' has 2",
    ),
    BadInput(
        "pt-length-mismatch", "m.pt",
        _pt(lambda torch: {"scores": torch.rand(4, 3), "labels": torch.tensor([0, 1, 2])}),
        "File 'm.pt': tensor 'scores' has 4 rows but tensor 'labels' has 3",
    ),
    BadInput(
        "npz-nan", "n.npz", _npz(scores=np.array([0.1, np.nan]), labels=np.array([0, 1])),
        "File 'n.npz', array 'scores', row 2: the score is missing or NaN",
    ),
    BadInput(
        "binary-garbage", "garbage.csv",
        bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8)),
        "File 'garbage.csv' holds binary data, not text",
    ),
    BadInput(
        "not-utf8", "latin.csv", "label,p_a,note\n1,0.5,ok\n0,0.2,café\n".encode("latin-1"),
        "File 'latin.csv' is not UTF-8 text (byte 0xe9 in row 2); save it with UTF-8 encoding",
    ),
    BadInput(
        "bad-parquet", "x.parquet", b"PAR1 this is not parquet at all",
        "File 'x.parquet' is not a valid Parquet file",
    ),
    BadInput(
        "empty-parquet", "e.parquet", _parquet(_empty_frame),
        "File 'e.parquet' has columns but no data rows",
    ),
    BadInput("bad-npz", "x.npz", b"not a zip archive", "File 'x.npz' is not a valid NPZ file"),
    BadInput(
        "npz-pickled", "obj.npz",
        _npz(scores=np.array([0.2, 0.7]), labels=np.array([0, 1]),
             classes=np.array(["a", None], dtype=object)),
        "File 'obj.npz', array 'classes' holds Python objects, which are never unpickled",
    ),
    BadInput(
        "npz-no-labels", "nolab.npz", _npz(scores=np.array([0.2, 0.7])),
        "File 'nolab.npz' has no array 'labels' (it holds 'scores')",
    ),
    BadInput("bad-pt", "x.pt", b"\x80\x02garbage", "File 'x.pt' is not a valid PyTorch file"),
    BadInput(
        "pt-unsafe-object", "evil.pt",
        _pt(lambda torch: {"scores": torch.rand(2), "labels": torch.tensor([0, 1]),
                           "extra": Fraction(1, 3)}),
        "File 'evil.pt' could not be loaded safely",
    ),
    BadInput(
        "pt-not-dict", "t.pt", _pt(lambda torch: torch.rand(3)),
        "File 't.pt' holds a Tensor, not a dict",
    ),
    BadInput(
        "unsupported-extension", "scores.xlsx", b"PK\x03\x04whatever",
        "File 'scores.xlsx' has extension '.xlsx', which ThresholdLab does not read; save it as "
        ".csv, .tsv, .parquet, .npz or .pt.",
    ),
    BadInput(
        "too-big", "huge.csv", _sparse(5 * GIB // 2),
        "File 'huge.csv' is 2.5 GiB, over the limit of 2 GiB; load a sample of its rows or "
        "split it.",
    ),
    BadInput(
        "no-score-columns", "noscore.csv", "label,comment\n1,hi\n0,there\n",
        "File 'noscore.csv' has no score columns",
    ),
    BadInput(
        "no-label-column", "nolabelcol.csv", "p_a,p_b\n0.1,0.9\n0.8,0.2\n",
        "File 'nolabelcol.csv' has no column that looks like the true labels (such as label, "
        "labels, target, y, y_true); name it with --label-col, or a multi-label file's 0/1 "
        "truth columns with --label-cols (or in the sidebar).",
    ),
    BadInput(
        "unknown-override-column", "o.csv", "label,p_a\n1,0.4\n",
        "File 'o.csv' has no column 'nope'; its columns are 'label', 'p_a'.",
        {"label_col": "nope"},
    ),
    BadInput(
        "probability-override-on-logits", "lg.csv", "label,p_a,p_b,p_c\n0,1.5,0.2,0.1\n",
        "File 'lg.csv', column 'p_a', row 1: score 1.5 lies outside [0, 1], so it cannot be a "
        "probability; use --score-kind logit.",
        {"score_kind": "probability"},
    ),
    BadInput(
        "binary-override-on-three-columns", "three.csv", "label,p_a,p_b,p_c\n0,.2,.3,.5\n",
        "File 'three.csv' has 3 score columns; binary data needs one",
        {"task": "binary"},
    ),
    BadInput(
        "unpaired-score-column", "half.csv", "y_a,p_a,p_b\n0,.2,.4\n",
        "File 'half.csv': score column 'p_b' has no 0/1 truth column to pair with",
    ),
    BadInput(
        "duplicate-class", "dup.csv", "label,p_cat,prob_cat\n0,.2,.3\n",
        "File 'dup.csv': score columns 'p_cat' and 'prob_cat' both name class 'cat'",
    ),
    BadInput(
        "column-name-twice", "twice.csv", "label,p_a,p_a,p_b\n0,.7,.2,.1\n1,.1,.1,.8\n",
        "File 'twice.csv': column 'p_a' appears twice in the header (columns 2 and 3); rename or "
        "remove one and load it again.",
    ),
    BadInput(
        "missing-value-word-label", "na.csv", "label,p_a,p_b,p_c\n0,.7,.2,.1\nNA,.1,.8,.1\n",
        "File 'na.csv', column 'label', row 2: the label is missing; fill it in or drop the row.",
    ),
    BadInput(
        "missing-value-word-score", "nullscore.csv", "label,p_x\n1,0.5\n0,null\n",
        "File 'nullscore.csv', column 'p_x', row 2: the score is missing or NaN",
    ),
    BadInput(
        # R's write.csv: a missing score is NA, in columns named without a score prefix
        "missing-value-word-unprefixed-score", "r_export.csv",
        "label,a,b,c,d\n1,.1,.2,.3,.4\n2,.2,.5,NA,.3\n3,.6,.1,.2,.1\n2,.3,.3,.2,.2\n",
        "File 'r_export.csv', column 'c', row 2: the score is missing or NaN",
    ),
    BadInput(
        "spreadsheet-error-score", "div0.csv", "label,p_a,p_b\n0,0.5,0.5\n1,#DIV/0!,0.5\n",
        "File 'div0.csv', column 'p_a', row 2: '#DIV/0!' is not a number; fix the value or choose the "
        "score columns with --score-cols.",
    ),
    BadInput(
        "excel-sep-line-ragged-row", "excel.csv", "sep=;\nlabel;p_a\n1;0,2\n0;0,3;9\n",
        "File 'excel.csv', row 2: 3 fields but the header has 2 (more values than columns)",
    ),
    BadInput(
        "percent-scores", "pct.csv", "label,p_a,p_b,p_c\n0,70,20,10\n2,10,10,80\n1,25,50,25\n",
        "File 'pct.csv': the scores of each row sum to 100, so they look like percentages, not "
        "probabilities or logits; divide them by 100",
    ),
    BadInput(
        "binary-labels-none-naming-the-class", "okbad.csv", "label,p_fraud\nok,0.1\nbad,0.9\n",
        "File 'okbad.csv', column 'label': cannot tell which of the labels 'bad', 'ok' is the "
        "positive class",
    ),
    BadInput(
        "one-hot-row-with-two-ones", "onehot.csv",
        "y_a,y_b,y_c,p_a,p_b,p_c\n1,0,0,.7,.2,.1\n0,1,1,.1,.1,.8\n",
        "File 'onehot.csv', row 2: 2 of the truth columns are 1, but multi-class data needs "
        "exactly one per row (one-hot)",
        {"task": "multiclass"},
    ),
    BadInput(
        "not-utf8-header", "cp1252.csv",
        "label,p_caf\u00e9,p_b\ncaf\u00e9,.7,.3\nb,.1,.9\n".encode("cp1252"),
        "File 'cp1252.csv' is not UTF-8 text (byte 0xe9 in the header); save it with UTF-8 "
        "encoding",
    ),
    BadInput(
        "parquet-column-name-twice", "twice.parquet", _parquet_table_with_repeated_name,
        "File 'twice.parquet': column 'p_a' appears twice (columns 2 and 3); rename or remove one",
    ),
    BadInput("not-found", "missing.csv", None, "missing.csv' was not found; check the path."),
]


def pytest_generate_tests(metafunc):
    """Run every test that asks for ``bad_input`` once per row of the table (per uploadable
    row for tests marked ``uploads``)."""
    if "bad_input" in metafunc.fixturenames:
        cases = BAD_INPUTS
        if metafunc.definition.get_closest_marker("uploads"):
            cases = [case for case in BAD_INPUTS if case.uploadable]
        metafunc.parametrize("bad_input", cases, ids=[case.id for case in cases])



@pytest.fixture(scope="session")
def cli_runs_on_bad_inputs(tmp_path_factory):
    """``python -m thresholdlab inspect`` run as a real process on every bad input, concurrently.

    Returns {case id: CompletedProcess}. Starting ~40 interpreters one after another would take
    most of the test budget, so they run side by side and each parametrized test reads its result.
    """
    directory = tmp_path_factory.mktemp("bad_inputs")

    def run(case: BadInput) -> subprocess.CompletedProcess:
        path = case.make(directory)
        command = [sys.executable, "-m", "thresholdlab", "inspect", str(path), *case.cli_options()]
        return subprocess.run(command, capture_output=True, text=True, cwd=directory, timeout=120)

    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = pool.map(run, BAD_INPUTS)
        return {case.id: result for case, result in zip(BAD_INPUTS, results)}
