"""``thresholdlab sketch`` (DuckDB) against the sketch of the same rows loaded into memory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thresholdlab.cli import main
from thresholdlab.loading import load
from thresholdlab.sketch import Sketch, read_sketch
from thresholdlab.sketch_duckdb import aggregation_sql, sketch_files
from thresholdlab.synthetic import synthetic_scores

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def frame(task: str, n: int, k: int = 4, seed: int = 0, logits=False, decimals=None):
    """A prediction table as users write them (label column or 0/1 truth columns)."""
    scores, labels = synthetic_scores(task, n, k, seed=seed, logits=logits)
    if decimals is not None:
        scores = np.round(scores, decimals)
    if task == "binary":
        return pd.DataFrame({"label": labels[:, 0].astype(int), "p_fraud": scores[:, 0]})
    if task == "multiclass":
        names = ["cat", "dog", "fox", "owl"][:k]
        return pd.DataFrame({"label": np.array(names)[labels],
                             **{f"p_{c}": scores[:, i] for i, c in enumerate(names)}})
    return pd.DataFrame({**{f"y_{i}": labels[:, i].astype(int) for i in range(k)},
                         **{f"p_{i}": scores[:, i] for i in range(k)}})


def write_parts(df: pd.DataFrame, folder: Path, fmt: str, parts: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(len(df)), parts)):
        path = folder / f"part-{i}.{fmt}"
        if fmt == "parquet":
            df.iloc[part].to_parquet(path, index=False)
        else:
            df.iloc[part].to_csv(path, index=False)
        paths.append(path)
    return paths


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("logits,decimals", [(False, None), (False, 2), (True, None)])
def test_duckdb_sketch_equals_the_sketch_of_the_loaded_rows(task, fmt, logits, decimals, tmp_path):
    df = frame(task, 1500, seed=len(task), logits=logits, decimals=decimals)
    whole = tmp_path / f"whole.{fmt}"
    (df.to_parquet if fmt == "parquet" else df.to_csv)(whole, index=False)
    write_parts(df, tmp_path / "parts", fmt)
    expected = Sketch.from_predictions(load(whole), 200)
    got = sketch_files([str(tmp_path / "parts" / f"*.{fmt}")], n_bins=200)
    assert got.equals(expected)
    assert got.score_kind == ("logit" if logits else "probability")
    assert got.label_mapping == {str(k): str(v) for k, v in expected.label_mapping.items()}
    assert len(got.sources) == 3


def test_the_sketch_is_one_aggregation_over_the_files():
    from thresholdlab.sketch_plan import Plan

    plan = Plan(file="x", task="multiclass", classes=("a", "b"), scores=("p_a", "p_b"),
                label="label")
    sql = aggregation_sql(plan, "read_parquet(['x.parquet'])", 100, "probability")
    assert sql.count("read_parquet") == 1
    assert sql.count("GROUP BY") == 1
    # Plain counts, not grouped histograms: DuckDB reports no progress for those until the end.
    assert "histogram" not in sql
    assert "UNION" not in sql.upper()


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_progress_goes_from_scanned_share_to_one_and_changes_nothing(task, tmp_path):
    df = frame(task, 3000, seed=7, logits=True)  # logits: a second pass, reported too
    write_parts(df, tmp_path / "parts", "parquet")
    pattern = str(tmp_path / "parts" / "*.parquet")
    shares: list[float] = []
    got = sketch_files([pattern], n_bins=300, progress=shares.append)
    assert got.equals(sketch_files([pattern], n_bins=300))
    assert got.equals(Sketch.from_predictions(load_frame(df, tmp_path), 300))
    assert shares[-1] == 1.0 and shares.count(1.0) == 2  # one pass on probabilities, one on logits
    assert all(0.0 <= s <= 1.0 for s in shares)
    first = shares[:shares.index(1.0) + 1]
    assert first == sorted(first)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
@pytest.mark.parametrize("decimals", [None, 1])
def test_parts_of_whole_row_groups_add_up_to_the_single_query(task, decimals, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from thresholdlab.sketch_duckdb import parquet_parts

    df = frame(task, 5000, seed=11, decimals=decimals)
    for i, part in enumerate(np.array_split(np.arange(len(df)), 2)):  # two files, 9 + 8 groups
        pq.write_table(pa.Table.from_pandas(df.iloc[part], preserve_index=False),
                       tmp_path / f"part-{i}.parquet", row_group_size=300)
    pattern = str(tmp_path / "part-*.parquet")
    paths = sorted(str(p) for p in tmp_path.glob("part-*.parquet"))
    parts = parquet_parts(paths, max_parts=6)
    assert sum(end - start for _, start, end in parts) == 5000
    assert 6 <= len(parts) <= 8 and all((end - start) % 300 == 0 or end in (2500,)
                                        for _, start, end in parts)
    shares: list[float] = []
    in_parts = sketch_files([pattern], n_bins=50, progress=shares.append, max_parts=6)
    single = sketch_files([pattern], n_bins=50)  # no progress: one query over both files
    assert in_parts.equals(single)
    assert single.equals(Sketch.from_predictions(load_frame(df, tmp_path), 50))
    # The share is rows done over all rows: it passes each part's end on the way to 1.
    ends = np.cumsum([end - start for _, start, end in parts])[:-1] / 5000
    assert shares == sorted(shares) and shares[-1] == 1.0
    for end in ends:
        assert any(abs(s - end) < 1e-12 for s in shares), (end, shares)


def load_frame(df: pd.DataFrame, folder: Path):
    path = folder / "whole.parquet"
    df.to_parquet(path, index=False)
    return load(path)


def test_labels_first_seen_past_the_first_rows_are_counted(tmp_path):
    # Sorted by label: the head (5,000 rows) holds one class only.
    df = frame("multiclass", 12_000, seed=2).sort_values("label", kind="stable")
    df.to_csv(tmp_path / "sorted.csv", index=False)
    got = sketch_files([str(tmp_path / "sorted.csv")], n_bins=100)
    assert got.equals(Sketch.from_predictions(load(tmp_path / "sorted.csv"), 100))


def test_cli_sketch_then_inspect_evaluate_optimize(tmp_path, capsys):
    df = frame("multiclass", 2000, seed=3)
    write_parts(df, tmp_path / "data", "parquet")
    out = tmp_path / "s.parquet"
    assert main(["sketch", str(tmp_path / "data" / "*.parquet"), "-o", str(out),
                 "--bins", "500"]) == 0
    assert "2,000 rows, multiclass, 4 classes, 500 bins" in capsys.readouterr().out
    sketch = read_sketch(out)
    assert sketch.n_rows == 2000 and sketch.n_bins == 500

    assert main(["inspect", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 2000 and report["task"] == "multiclass"
    assert report["classes"] == ["cat", "dog", "fox", "owl"]
    assert report["sketch"]["n_bins"] == 500 and report["sketch"]["bin_width"] == 0.002
    assert main(["inspect", str(out)]) == 0
    assert "Binned      sketch of 500 bins of width 0.002" in capsys.readouterr().out

    config = tmp_path / "c.json"
    assert main(["optimize", str(out), "--objective", "f1", "-o", str(config)]) == 0
    capsys.readouterr()
    written = json.loads(config.read_text())
    assert written["data"]["rows"] == 2000 and written["data"]["file"] == "s.parquet"
    thresholds = np.array(list(written["thresholds"].values()))
    assert np.array_equal(np.round(thresholds * 500), thresholds * 500)  # on edges

    assert main(["evaluate", str(out), "--thresholds", str(config), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    # The same thresholds on the rows themselves: identical counts, since they sit on edges.
    whole = tmp_path / "whole.parquet"
    df.to_parquet(whole, index=False)
    assert main(["evaluate", str(whole), "--thresholds", str(config), "--json"]) == 0
    exact = json.loads(capsys.readouterr().out)
    for name in metrics["per_class"]:
        for key in ("tp", "fp", "fn", "tn", "precision", "recall", "f1"):
            assert metrics["per_class"][name][key] == exact["per_class"][name][key]
    assert metrics["confusion"] == exact["confusion"]
    assert metrics["accuracy"] == exact["accuracy"]


def test_cli_apply_on_a_sketch_says_it_has_no_rows(tmp_path, capsys):
    df = frame("binary", 100)
    df.to_parquet(tmp_path / "d.parquet", index=False)
    out = tmp_path / "s.parquet"
    assert main(["sketch", str(tmp_path / "d.parquet"), "-o", str(out)]) == 0
    assert main(["optimize", str(out), "--objective", "f1", "-o", str(tmp_path / "c.json")]) == 0
    capsys.readouterr()
    assert main(["apply", str(out), "--thresholds", str(tmp_path / "c.json"),
                 "-o", str(tmp_path / "d.csv")]) == 2
    assert "is a sketch: it holds counts, not rows" in capsys.readouterr().err


@pytest.mark.parametrize("make,fragment", [
    (lambda d: d.assign(p_fraud=d.p_fraud.where(d.index != 5500)),
     "score column 'p_fraud': 1 rows have missing, non-numeric or infinite values"),
    (lambda d: d.assign(label=d.label.astype(float).where(d.index != 5200)),
     "column 'label': some rows have no label"),
    (lambda d: d.assign(label=np.where(d.index == 4000, 2, d.label)),
     "label '2' matches no class"),
], ids=["nan score", "missing label", "label past the first rows"])
def test_bad_values_anywhere_in_the_files_give_one_sentence(make, fragment, tmp_path, capsys):
    df = make(frame("binary", 6000))
    df.to_parquet(tmp_path / "d.parquet", index=False)
    assert main(["sketch", str(tmp_path / "d.parquet"), "-o", str(tmp_path / "s.parquet")]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_missing_files_and_other_formats_are_named(tmp_path, capsys):
    assert main(["sketch", str(tmp_path / "none-*.parquet"), "-o", str(tmp_path / "s")]) == 2
    assert "No file matches" in capsys.readouterr().err
    (tmp_path / "x.npz").write_bytes(b"0")
    assert main(["sketch", str(tmp_path / "x.npz"), "-o", str(tmp_path / "s")]) == 2
    assert "from Parquet or CSV files" in capsys.readouterr().err


def test_bundled_samples_sketch_like_their_loaded_rows():
    for path in sorted(SAMPLES.glob("*.csv")):
        assert sketch_files([str(path)], n_bins=1000).equals(
            Sketch.from_predictions(load(path), 1000)), path.name
