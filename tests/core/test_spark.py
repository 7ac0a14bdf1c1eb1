"""Spark sketches (``local[2]``, started here) are identical to DuckDB's of the same files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

pytest.importorskip("pyspark")

from thresholdlab.cli import main  # noqa: E402
from thresholdlab.sketch import read_sketch  # noqa: E402
from thresholdlab.sketch_duckdb import sketch_files  # noqa: E402
from thresholdlab.spark import sketch  # noqa: E402

from .test_sketch_duckdb import frame, write_parts  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.fail("Spark needs Java 17: `make test` installs openjdk-17-jre-headless.")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("thresholdlab tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "512m")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.mark.parametrize("task,logits,decimals", [
    ("binary", False, 2),
    ("multiclass", True, 2),
    ("multilabel", True, None),
])
def test_spark_and_duckdb_sketches_of_the_same_parquet_files_are_identical(
        spark, task, logits, decimals, tmp_path):
    df = frame(task, 1200, seed=5, logits=logits, decimals=decimals)
    paths = write_parts(df, tmp_path / "data", "parquet")
    by_duckdb = sketch_files([str(p) for p in paths], n_bins=300)
    table = spark.read.parquet(*[str(p) for p in paths])
    by_spark = sketch(table, n_bins=300, name=by_duckdb.file)
    assert by_spark.equals(by_duckdb)
    assert (by_spark.classes, by_spark.score_kind, by_spark.label_mapping, by_spark.notes) == (
        by_duckdb.classes, by_duckdb.score_kind, by_duckdb.label_mapping, by_duckdb.notes)


def test_spark_sketch_with_named_columns(spark, tmp_path):
    df = frame("multiclass", 500, seed=8)
    df.to_parquet(tmp_path / "d.parquet", index=False)
    table = spark.read.parquet(str(tmp_path / "d.parquet"))
    got = sketch(table, label="label", scores=["p_cat", "p_dog", "p_fox", "p_owl"], n_bins=50)
    assert got.equals(sketch_files([str(tmp_path / "d.parquet")], n_bins=50))
    assert got.n_rows == 500 and got.classes == ("cat", "dog", "fox", "owl")


def test_cli_engine_spark(spark, tmp_path, capsys):
    df = frame("binary", 400, seed=2)
    df.to_parquet(tmp_path / "d.parquet", index=False)
    out = tmp_path / "s.parquet"
    assert main(["sketch", str(tmp_path / "d.parquet"), "--engine", "spark", "--master",
                 "local[2]", "--bins", "100", "-o", str(out)]) == 0
    assert "400 rows, binary" in capsys.readouterr().out
    assert read_sketch(out).equals(sketch_files([str(tmp_path / "d.parquet")], n_bins=100))
    np.testing.assert_array_equal(read_sketch(out).positives, [df.label.sum()])


def test_spark_reads_gzipped_csv_as_duckdb_and_loading_do(spark, tmp_path):
    from thresholdlab.loading import load
    from thresholdlab.sketch import Sketch
    from thresholdlab.spark import sketch_paths

    df = frame("multiclass", 600, seed=3)
    path = tmp_path / "d.csv.gz"
    df.to_csv(path, index=False)
    by_spark = sketch_paths([str(path)], n_bins=100)
    assert by_spark.equals(sketch_files([str(path)], n_bins=100))
    assert by_spark.equals(Sketch.from_predictions(load(path), 100))
