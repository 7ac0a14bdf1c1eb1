"""The sketch benchmarks still run (``python -m benchmarks.sketch ... --quick``): DuckDB and
exact mode at tiny sizes, in a subprocess. Nothing is timed here; Spark is covered by
tests/core/test_spark.py."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_duckdb_and_exact_runs(tmp_path):
    out = tmp_path / "results.jsonl"
    for step in ("data", "duckdb", "exact"):
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.sketch", step, "--quick", "--data-dir",
             str(tmp_path), "--json", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["what"] for r in rows] == ["duckdb sketch", "pyarrow read", "exact mode",
                                         "duckdb sketch"]
    assert rows[0]["rows"] == 20_000 and rows[2]["rows"] == rows[3]["rows"] == 10_000
    assert all(r["peak_rss_mb"] > 0 for r in rows)


def test_quick_progress_runs_one_query_and_parts_and_they_agree(tmp_path):
    out = tmp_path / "results.jsonl"
    for step in ("data", "progress"):
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.sketch", step, "--quick", "--data-dir",
             str(tmp_path), "--json", str(out)],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "parts add up to the single query's sketch: True" in proc.stdout
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["what"] for r in rows] == ["duckdb sketch", "duckdb sketch, in parts with progress"] * 2
    assert all(r["progress_at"][-1][1] == 1.0 for r in rows[1::2])
