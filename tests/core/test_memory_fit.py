"""Exact mode's memory estimate before loading, and the sentence that points to a sketch."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from thresholdlab.memory_fit import (
    MEMORY_ENV, PEAK_PER_SCORE_BYTES, available_memory, estimate, too_large_sentence,
)
from thresholdlab.predictions import DataError
from thresholdlab.sketch import Sketch
from thresholdlab.synthetic import random_predictions


def table(n: int, k: int = 3, dtype=np.float32) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(k), size=n).astype(dtype)
    return pd.DataFrame({"id": np.arange(n), "label": rng.integers(0, k, n),
                         **{f"p_{c}": p[:, c] for c in range(k)}})


def parquet_bytes(df: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    df.to_parquet(out, index=False)
    return out.getvalue()


@pytest.mark.parametrize("dtype,item", [(np.float32, 4), (np.float64, 8)])
def test_parquet_estimate_reads_rows_and_score_types_from_the_footer(dtype, item):
    found = estimate(parquet_bytes(table(1000, 4, dtype)), "scores.parquet")
    assert (found.rows, found.scores, found.rows_exact) == (1000, 4, True)
    assert found.peak_bytes == PEAK_PER_SCORE_BYTES["parquet"] * item * 1000 * 4


def test_csv_estimate_counts_the_classes_the_loader_finds_and_the_rows(tmp_path):
    df = table(3000, 5)
    small = df.to_csv(index=False).encode()
    found = estimate(small, "scores.csv")
    assert (found.rows, found.scores, found.rows_exact) == (3000, 5, True)
    # Past the head, the rows come from the size: within a few percent of the truth.
    big = pd.concat([df] * 40).to_csv(index=False).encode()
    assert len(big) > 1 << 20
    path = tmp_path / "big.csv"
    path.write_bytes(big)
    found = estimate(path)
    assert not found.rows_exact and found.scores == 5
    assert abs(found.rows - 120_000) / 120_000 < 0.05
    assert found.peak_bytes == pytest.approx(PEAK_PER_SCORE_BYTES["csv"] * 4 * found.rows * 5)


def test_sketches_other_formats_and_broken_files_get_no_estimate(tmp_path):
    sketch = Sketch.from_predictions(random_predictions("binary", 100), 10).to_bytes()
    assert estimate(sketch, "s.parquet") is None
    assert estimate(b"\x00\x01", "x.npz") is None
    assert estimate(b"PAR1 not really", "x.parquet") is None
    assert estimate(b"only a header\n", "x.csv") is None


def test_the_sentence_names_file_sizes_and_the_sketch_command_under_a_tiny_limit():
    raw = parquet_bytes(table(2000))
    assert too_large_sentence(raw, "clicks.parquet", available=1 << 40) is None
    sentence = too_large_sentence(raw, "clicks.parquet", available=1000)
    assert sentence == (
        "'clicks.parquet' is too large for exact mode here: its 2,000 rows x 3 scores need about "
        "93.8 KB of memory and 1,000 bytes is available; make a sketch of it with "
        "`thresholdlab sketch clicks.parquet -o clicks-sketch.parquet` (DuckDB, out of core) "
        "and open that file instead."
    )
    csv = table(2000).to_csv(index=False).encode()
    assert "its 2,000 rows x 3 scores" in too_large_sentence(csv, "c.csv", available=1000)


def test_a_csv_file_far_smaller_than_the_memory_is_not_parsed_at_all(monkeypatch):
    import thresholdlab.memory_fit as memory_fit

    def parse(*args, **kwargs):
        raise AssertionError("the estimate should not have been needed")

    monkeypatch.setattr(memory_fit, "estimate", parse)
    csv = table(2000).to_csv(index=False).encode()
    assert too_large_sentence(csv, "c.csv", available=20 * len(csv)) is None


def test_available_memory_comes_from_the_environment_or_the_machine(monkeypatch):
    monkeypatch.setenv(MEMORY_ENV, "1.5")
    assert available_memory() == int(1.5 * 2**20)
    monkeypatch.setenv(MEMORY_ENV, "lots")
    with pytest.raises(DataError, match="THRESHOLDLAB_MEMORY_MB is 'lots'; give the memory in MB"):
        available_memory()
    monkeypatch.delenv(MEMORY_ENV)
    found = available_memory()
    assert found is None or found > 0
    monkeypatch.setenv(MEMORY_ENV, "0.01")  # 10 KB: a 2,000-row file does not fit
    assert "too large for exact mode" in too_large_sentence(parquet_bytes(table(2000)), "t.parquet")


def test_the_command_line_refuses_a_file_too_large_for_memory_before_reading_it(
        tmp_path, monkeypatch, capsys):
    from thresholdlab.cli import main
    from thresholdlab.loading import load

    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(3), size=2000)
    path = tmp_path / "clicks.csv"
    pd.DataFrame({"label": rng.integers(0, 3, 2000),
                  **{f"p_{c}": p[:, i] for i, c in enumerate("abc")}}).to_csv(path, index=False)
    monkeypatch.setenv(MEMORY_ENV, "0.05")  # 50 KB
    for command in (["inspect", str(path)], ["optimize", str(path), "--objective", "f1", "-o", str(tmp_path / "t.json")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "'clicks.csv' is too large for exact mode here" in err
        assert "`thresholdlab sketch clicks.csv -o clicks-sketch.parquet`" in err
    # Its sketch opens under the same limit; with memory to spare the file itself loads.
    sketch = tmp_path / "clicks-sketch.parquet"
    sketch.write_bytes(Sketch.from_predictions(load(path), 100).to_bytes())
    assert main(["inspect", str(sketch)]) == 0
    monkeypatch.setenv(MEMORY_ENV, "4096")
    assert main(["inspect", str(path)]) == 0
