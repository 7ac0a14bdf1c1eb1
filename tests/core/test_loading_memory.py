"""A file whose rows do not fit in memory gets one sentence saying what to do, from every
reader, and no reader tries again with another that would need more memory still."""

import io

import numpy as np
import pandas as pd
import pytest

import thresholdlab.loading as loading
import thresholdlab.loading.parquet as parquet_module
import thresholdlab.loading.streaming as streaming_module
import thresholdlab.loading.tables as tables_module
from thresholdlab.loading import load
from thresholdlab.predictions import DataError


def _frame(n=300):
    rng = np.random.default_rng(0)
    p = rng.random((n, 3))
    p /= p.sum(axis=1, keepdims=True)
    return pd.DataFrame({"label": rng.integers(0, 3, n),
                         **{f"p_{c}": p[:, j] for j, c in enumerate("abc")}})


def _bytes(fmt: str) -> bytes:
    frame = _frame()
    if fmt == "parquet":
        out = io.BytesIO()
        frame.to_parquet(out)
        return out.getvalue()
    if fmt == "npz":
        out = io.BytesIO()
        np.savez(out, scores=frame[["p_a", "p_b", "p_c"]].to_numpy(),
                 labels=frame["label"].to_numpy())
        return out.getvalue()
    return frame.to_csv(index=False, sep="\t" if fmt == "tsv" else ",").encode()


def _out_of_memory(*args, **kwargs):
    np.empty(1 << 62, dtype=np.uint8)  # numpy's own MemoryError, as for a matrix too large


@pytest.fixture
def whole_table_reads(monkeypatch):
    """Every call of the whole-table reader, which must not be tried after a MemoryError."""
    calls = []
    real = loading.read_table
    monkeypatch.setattr(loading, "read_table", lambda *a: calls.append(a) or real(*a))
    return calls


@pytest.mark.parametrize("fmt, reader", [
    ("parquet", (parquet_module, "_fill")),
    ("csv", (streaming_module, "_stream")),
    ("tsv", (streaming_module, "_stream")),
])
def test_the_fast_readers_run_out_of_memory_in_one_sentence(monkeypatch, whole_table_reads,
                                                             fmt, reader):
    monkeypatch.setattr(*reader, _out_of_memory)
    with pytest.raises(DataError) as caught:
        load(_bytes(fmt), name=f"scores.{fmt}")
    assert str(caught.value) == (
        f"File 'scores.{fmt}' does not fit in the memory free on this machine; make a sketch "
        f"of it with `thresholdlab sketch scores.{fmt} -o scores-sketch.parquet` (DuckDB, out "
        "of core) and open that file instead, or load a sample of its rows.")
    assert whole_table_reads == []


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_whole_table_readers_run_out_of_memory_in_the_same_sentence(monkeypatch, fmt):
    # The fast readers step aside (as for an unusual file); the whole-table reader fails.
    monkeypatch.setattr(loading, "read_parquet_filled", lambda *a: None)
    monkeypatch.setattr(loading, "read_csv_blocks", lambda *a, **k: None)
    monkeypatch.setattr(tables_module, "_parquet_frame", _out_of_memory)
    monkeypatch.setattr(tables_module.pacsv, "read_csv", _out_of_memory)  # the first try
    monkeypatch.setattr(tables_module.pd, "read_csv", _out_of_memory)  # the others
    with pytest.raises(DataError, match=r"does not fit in the memory free on this machine; "
                                        r"make a sketch of it"):
        load(_bytes(fmt), name=f"scores.{fmt}")


def test_an_array_file_that_does_not_fit_says_to_load_a_sample(monkeypatch):
    monkeypatch.setattr(loading, "read_npz", _out_of_memory)
    with pytest.raises(DataError) as caught:
        load(_bytes("npz"), name="scores.npz")
    assert str(caught.value) == ("File 'scores.npz' does not fit in the memory free on this "
                                 "machine; load a sample of its rows.")


def test_the_same_file_loads_when_memory_allows():
    for fmt in ("parquet", "csv", "tsv", "npz"):
        assert load(_bytes(fmt), name=f"scores.{fmt}").n_rows == 300


def test_the_sketch_command_in_the_sentence_can_be_pasted_for_any_file_name(monkeypatch):
    monkeypatch.setattr(streaming_module, "_stream", _out_of_memory)
    with pytest.raises(DataError) as caught:
        load(_bytes("csv"), name="my scores.csv")
    assert ("`thresholdlab sketch 'my scores.csv' -o 'my scores-sketch.parquet'`"
            in str(caught.value))
