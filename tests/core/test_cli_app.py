"""``thresholdlab app``: where it serves, and the Streamlit options it passes on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from thresholdlab.cli import build_parser, split_streamlit_options

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "binary_breast_cancer.csv"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str, proc: subprocess.Popen, timeout: float = 90) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def test_app_serves_on_the_port_and_host_it_is_given(tmp_path):
    port = _free_port()
    log = open(tmp_path / "app.log", "w")
    # Its own session: `thresholdlab app` runs streamlit as a child, and both stop together.
    proc = subprocess.Popen(
        [sys.executable, "-m", "thresholdlab", "app", str(SAMPLE), "--port", str(port),
         "--host", "127.0.0.1", "--server.headless", "true",
         "--server.fileWatcherType=none"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert _healthy(f"http://127.0.0.1:{port}", proc), (tmp_path / "app.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the group of the process started here
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_app_hands_port_host_and_streamlit_options_to_streamlit(monkeypatch):
    argv, passed = split_streamlit_options(
        ["app", "--port", "8502", "--host", "0.0.0.0", "--server.maxUploadSize", "500",
         "--theme.base=dark", "--server.headless", "true"]
    )
    args = build_parser().parse_args(argv)
    args.streamlit_options = passed
    captured = {}
    monkeypatch.setattr("subprocess.call", lambda command, env: captured.update(c=command) or 0)
    assert args.func(args) == 0
    command = captured["c"]
    tail = command[command.index("run") + 2:]
    assert tail == ["--browser.gatherUsageStats", "false", "--server.port", "8502",
                    "--server.address", "0.0.0.0", "--server.maxUploadSize", "500",
                    "--theme.base=dark", "--server.headless", "true"]


@pytest.mark.parametrize("argv, own, passed", [
    (["app"], ["app"], []),
    (["app", "f.csv", "--label-col", "y"], ["app", "f.csv", "--label-col", "y"], []),
    (["app", "--server.headless", "--port", "1"], ["app", "--port", "1"], ["--server.headless"]),
    (["inspect", "f.csv", "--server.port", "1"], ["inspect", "f.csv", "--server.port", "1"], []),
])
def test_only_dotted_options_of_app_pass_through(argv, own, passed):
    assert split_streamlit_options(argv) == (own, passed)


def test_other_commands_still_refuse_unknown_options(capsys):
    from thresholdlab.cli import main

    assert main(["inspect", str(SAMPLE), "--server.port", "1"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
