"""The coverage-guided fuzzer (``make fuzz``) still runs: each harness for a few hundred inputs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

pytest.importorskip("atheris")


@pytest.mark.parametrize("reader", ["csv", "npz", "config"])
def test_harness_runs_without_a_crash(reader, tmp_path):
    env = dict(os.environ, THRESHOLDLAB_FUZZ_DIR=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, str(HERE / "run.py"), reader, "-runs=300", "-seed=1"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done 300 runs" in proc.stderr
    assert not list((tmp_path / "crashes").iterdir())
