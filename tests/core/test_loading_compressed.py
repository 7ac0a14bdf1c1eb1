"""Compressed prediction files (``preds.csv.gz``, as ``DataFrame.to_csv`` writes them when the
name says so) load to exactly what the uncompressed file loads to; the digest a config records
is that of the file as given."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile

import numpy as np
import pandas as pd
import pytest

from thresholdlab import slices
from thresholdlab.loading import load
from thresholdlab.memory_fit import estimate
from thresholdlab.predictions import DataError


def _frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"id": np.arange(n), "label": rng.integers(0, 3, n),
                         "region": np.where(np.arange(n) % 4 == 0, "north", "south"),
                         **{f"p_{c}": rng.dirichlet([1, 1, 1], n)[:, j].round(5)
                            for j, c in enumerate("abc")}})


def _same(loaded, expected):
    assert (loaded.task, loaded.classes, loaded.columns) == (
        expected.task, expected.classes, expected.columns)
    np.testing.assert_array_equal(loaded.labels, expected.labels)
    np.testing.assert_array_equal(loaded.scores, expected.scores)
    np.testing.assert_array_equal(loaded.ids, expected.ids)
    assert loaded.notes == expected.notes


@pytest.mark.parametrize("name", ["preds.csv.gz", "preds.csv.bz2", "preds.csv.xz",
                                  "preds.csv.zip", "preds.tsv.gz", "preds.txt.gz"])
def test_pandas_compressed_text_loads_as_the_plain_file(tmp_path, name):
    frame = _frame()
    sep = "\t" if ".tsv" in name else ","
    plain = tmp_path / name.rsplit(".", 1)[0]
    frame.to_csv(plain, index=False, sep=sep)
    packed = tmp_path / name
    frame.to_csv(packed, index=False, sep=sep)  # pandas compresses by the extension
    assert packed.read_bytes() != plain.read_bytes()
    expected = load(plain)
    on_disk = load(packed)
    uploaded = load(packed.read_bytes(), name=name)
    for loaded in (on_disk, uploaded):
        _same(loaded, expected)
        assert loaded.file == name
        assert loaded.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()


def test_a_parquet_file_named_as_pandas_documents_it(tmp_path):
    """``df.to_parquet('df.parquet.gzip', compression='gzip')``: a Parquet file whose pages
    are compressed, not a gzip file."""
    frame = _frame()
    frame.to_parquet(tmp_path / "df.parquet.gzip", compression="gzip", index=False)
    frame.to_parquet(tmp_path / "df.parquet", index=False)
    _same(load(tmp_path / "df.parquet.gzip"), load(tmp_path / "df.parquet"))


def test_a_gzipped_parquet_file_is_read_too(tmp_path):
    frame = _frame()
    frame.to_parquet(tmp_path / "df.parquet", index=False)
    (tmp_path / "df.parquet.gz").write_bytes(gzip.compress((tmp_path / "df.parquet").read_bytes()))
    _same(load(tmp_path / "df.parquet.gz"), load(tmp_path / "df.parquet"))


def _zip_of(*names):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "label,p_a,p_b,p_c\n0,.7,.2,.1\n")
    return buffer.getvalue()


@pytest.mark.parametrize("name, data, message", [
    ("cut.csv.gz", gzip.compress(b"label,p_a,p_b,p_c\n0,.7,.2,.1\n" * 50)[:30],
     "File 'cut.csv.gz' cannot be decompressed (Compressed file ended before the end-of-stream "
     "marker was reached); check that it was copied whole, or load it uncompressed."),
    ("two.csv.zip", _zip_of("a.csv", "b.csv"),
     "File 'two.csv.zip' is a zip archive of 2 files; zip one prediction file alone (or load "
     "it unzipped)."),
    ("preds.npz.gz", b"\x1f\x8b\x08", "File 'preds.npz.gz' has extension '.gz', which "
     "ThresholdLab does not read; save it as .csv, .tsv, .parquet, .npz or .pt (compressed: "
     ".csv.gz, .tsv.gz or .parquet.gz)."),
])
def test_broken_or_unreadable_archives_are_one_sentence(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DataError) as error:
        load(tmp_path / name)
    assert str(error.value) == message


def test_the_size_limit_counts_the_decompressed_text(tmp_path):
    """A small archive of much text is refused as it is read, not after it filled memory."""
    path = tmp_path / "big.csv.gz"
    path.write_bytes(gzip.compress(b"label,p_a,p_b,p_c\n" + b"0,0.7,0.2,0.1\n" * 100_000))
    assert path.stat().st_size < 20_000
    with pytest.raises(DataError, match=r"holds more than 977 KiB once decompressed, over the "
                                         r"limit; load a sample of its rows or split it\."):
        load(path, max_bytes=1_000_000)
    assert load(path, max_bytes=2_000_000).n_rows == 100_000


def test_slices_and_memory_estimates_of_compressed_files(tmp_path):
    frame = _frame()
    path = tmp_path / "preds.csv.gz"
    frame.to_csv(path, index=False)
    predictions = load(path)
    for source in (path, path.read_bytes()):
        columns = slices.slice_columns(source, predictions, name=path.name, only=["region"])
        np.testing.assert_array_equal(columns["region"], frame["region"].to_numpy(dtype=str))
    # The size on disk says little about the text's: no estimate rather than a wrong one.
    assert estimate(path) is None


def test_duckdb_sketches_gzipped_csv_as_loading_reads_it(tmp_path):
    from thresholdlab.sketch import Sketch
    from thresholdlab.sketch_duckdb import sketch_files

    path = tmp_path / "preds.csv.gz"
    _frame().to_csv(path, index=False)
    assert sketch_files([str(path)], n_bins=100).equals(Sketch.from_predictions(load(path), 100))
    _frame().to_csv(tmp_path / "preds.csv.bz2", index=False)
    with pytest.raises(DataError, match=r"a sketch reads gzipped CSV \(\.csv\.gz\) but not \.bz2"):
        sketch_files([str(tmp_path / "preds.csv.bz2")], n_bins=100)


def test_a_zip_made_by_macos_finder(tmp_path):
    frame = _frame()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("preds.csv", frame.to_csv(index=False))
        archive.writestr("__MACOSX/._preds.csv", b"\x00\x05\x16\x07")
    (tmp_path / "preds.csv.zip").write_bytes(buffer.getvalue())
    frame.to_csv(tmp_path / "preds.csv", index=False)
    _same(load(tmp_path / "preds.csv.zip"), load(tmp_path / "preds.csv"))
