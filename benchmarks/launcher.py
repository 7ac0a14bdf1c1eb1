"""Streamlit servers and Debian's Chromium, started one way for the browser benchmark and the
browser tests alike.

A server is ``streamlit run SCRIPT`` on a free localhost port, with no usage statistics and no
file watcher; it counts as started once ``/_stcore/health`` answers 200, and :meth:`Server.stop`
ends the process it started, by its pid. Chromium is the Debian build (Playwright's own download
is never used) with flags that keep it from reaching the network on its own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("THRESHOLDLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
# A page is idle once the script run the last action started has finished.
IDLE = (
    "[data-testid='stApp'][data-test-script-state='notRunning']"
    "[data-test-connection-state='CONNECTED']"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run script`` on a free port of 127.0.0.1; ``url`` once healthy.

    ``env``: extra environment variables; ``log``: a file for the server's output (else it is
    dropped). Use as a context manager, or call :meth:`stop`.
    """

    def __init__(self, script: str | Path = "app.py", env: dict | None = None,
                 log: Path | None = None, timeout: float = 60):
        self.script = Path(script)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log, "w") if log is not None else None
        self.log_path = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(self.script),
             "--server.headless", "true", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env={**os.environ, **(env or {})},
            stdout=self._log or subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                where = f"; see {self.log_path}" if self.log_path else ""
                raise RuntimeError(f"streamlit did not start for {self.script}{where}")
            time.sleep(0.2)

    def stop(self) -> None:
        """End the server process this object started (by its pid), then close its log."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def have_chromium() -> bool:
    return Path(CHROMIUM).exists()


def launch_chromium(playwright):
    """Headless Debian Chromium under ``playwright``: a started ``sync_playwright()`` gives the
    browser, a started ``async_playwright()`` an awaitable of it (``await launch_chromium(p)``)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
