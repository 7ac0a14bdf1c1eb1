"""The installed command and ``python -m thresholdlab`` leave through ``cli.run``: its output is
flushed whole before the process ends, and its exit code is :func:`cli.main`'s."""

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "multiclass_wine_logits.csv"


def _thresholdlab(*args):
    return subprocess.run([sys.executable, "-m", "thresholdlab", *args], capture_output=True,
                          text=True, timeout=120)


def test_a_command_s_output_reaches_a_pipe_whole():
    done = _thresholdlab("inspect", str(SAMPLE), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # the whole object, though stdout is a pipe
    assert report["rows"] == 178 and report["task"] == "multiclass"


def test_bad_input_still_exits_2_with_its_sentence(tmp_path):
    done = _thresholdlab("inspect", str(tmp_path / "missing.csv"))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"thresholdlab: error: File '{tmp_path / 'missing.csv'}' was not found; check the path."]


def test_the_installed_command_is_run():
    import tomllib

    project = tomllib.loads((SAMPLE.parents[1] / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["thresholdlab"] == "thresholdlab.cli:run"
