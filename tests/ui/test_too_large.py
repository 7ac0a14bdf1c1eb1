"""A file too large for memory in exact mode: the sidebar says so before loading it, and names
the sketch command; a sketch of it still opens."""

import io

import numpy as np
import pandas as pd

from apptest_support import errors, open_app, upload
from thresholdlab.loading import load
from thresholdlab.memory_fit import MEMORY_ENV
from thresholdlab.sketch import Sketch
from thresholdlab.ui.data import Source


def scores_csv(n: int = 2000) -> bytes:
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(3), size=n)
    df = pd.DataFrame({"label": rng.integers(0, 3, n), **{f"p_{c}": p[:, i] for i, c in enumerate("abc")}})
    out = io.StringIO()
    df.to_csv(out, index=False)
    return out.getvalue().encode()


def test_a_file_past_the_memory_limit_is_refused_before_loading_with_the_sketch_command(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "0.05")  # 50 KB: the samples are exempt, this file is not
    at = open_app()
    before = at.session_state["dataset"]
    upload(at, "upload_widget", "clicks.csv", scores_csv())
    assert not at.exception, at.exception
    shown = " ".join(errors(at))
    assert "'clicks.csv' is too large for exact mode here: its 2,000 rows x 3 scores" in shown
    assert "`thresholdlab sketch clicks.csv -o clicks-sketch.parquet`" in shown
    assert "The previous data and thresholds stay loaded." in shown
    assert at.session_state["dataset"].source == before.source
    assert at.session_state["pending_source"] is None  # no column mapper: nothing was parsed

    # Its sketch opens in its place, under the same limit.
    sketch = Sketch.from_predictions(load(scores_csv(), name="clicks.csv"), 100).to_bytes()
    upload(at, "upload_widget", "clicks-sketch.parquet", sketch, "application/octet-stream")
    assert not at.exception and not errors(at), errors(at)
    assert at.session_state["dataset"].binned


def test_the_same_file_loads_when_memory_allows(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "4096")
    at = open_app()
    upload(at, "upload_widget", "clicks.csv", scores_csv())
    assert not at.exception and not errors(at), errors(at)
    assert at.session_state["dataset"].predictions.n_rows == 2000


def test_the_file_thresholdlab_app_opens_is_checked_before_it_is_read(monkeypatch, tmp_path):
    path = tmp_path / "clicks.csv"
    path.write_bytes(scores_csv())
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(path))
    monkeypatch.setenv(MEMORY_ENV, "0.05")
    read = []
    monkeypatch.setattr(Source, "file", classmethod(lambda cls, p: read.append(p)))
    at = open_app()
    assert not at.exception, at.exception
    assert read == []  # refused from its size on disk, never read into memory
    monkeypatch.undo()
    assert at.session_state["dataset"].source.kind == "sample"  # the sample meanwhile
    assert "'clicks.csv' is too large for exact mode here" in " ".join(errors(at))
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(path))
    monkeypatch.setenv(MEMORY_ENV, "4096")
    at = open_app()
    assert not errors(at) and at.session_state["dataset"].predictions.n_rows == 2000
