"""Concurrent sessions on one server: isolation and the server's memory (part of benchmark 4).

Several browser contexts (separate sessions, as separate users would have) open one Streamlit
server at once. Each uploads its own copy of the 3-class sample, with its own class names and
row count, then until the time is up: moves a slider with the keyboard, checks that the page
shows its own classes and rows and nothing of any other session, downloads its config and
checks that the file holds exactly its classes, thresholds, file name and hash. The server's
resident memory is sampled all along, and read again after every session has closed.

    python -m benchmarks.sessions --sessions 8 --seconds 60 --rounds 2

The test suite runs it small (tests/browser/test_sessions.py); benchmark 4 runs it larger.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.launcher import IDLE, ROOT, Server, launch_chromium

SAMPLE = ROOT / "sample_data" / "multiclass_wine_logits.csv"
SETTLE_MS = 30_000
UPLOAD_INPUT = ".st-key-upload_widget [data-testid='stFileUploaderDropzoneInput']"


@dataclass(frozen=True)
class SessionFile:
    """One session's upload: the sample with its classes renamed and a few rows dropped, so that
    its class names and its row count appear in no other session."""

    path: Path
    name: str
    classes: tuple[str, ...]
    rows: int
    sha256: str
    marker: str  # a string in every class name of this session, in no other session's page


def session_files(directory: Path, n: int) -> list[SessionFile]:
    import pandas as pd

    frame = pd.read_csv(SAMPLE)
    label = next(c for c in frame.columns if c.lower() in ("label", "y", "target", "class"))
    scores = [c for c in frame.columns if c.startswith(("logit_", "p_"))]
    prefix = scores[0].split("_", 1)[0] + "_"
    old = [c.split("_", 1)[1] for c in scores]
    out = []
    for i in range(n):
        marker = f"q{i}x{'abcdefgh'[i % 8]}"  # letters and digits only: survives name cleaning
        new = [f"{marker}{c}" for c in old]
        part = frame.iloc[: len(frame) - i].copy()
        part = part.rename(columns={f"{prefix}{a}": f"{prefix}{b}" for a, b in zip(old, new)})
        if pd.api.types.is_string_dtype(part[label]):
            part[label] = part[label].map(dict(zip(old, new)))
        name = f"session_{i}_{marker}.csv"
        path = directory / name
        part.to_csv(path, index=False)
        raw = path.read_bytes()
        out.append(SessionFile(path, name, tuple(new), len(part), hashlib.sha256(raw).hexdigest(),
                               marker))
    return out


# ----------------------------------------------------------------------------------- server
def rss_mb(server: Server) -> float:
    """The server process's resident memory (VmRSS), in MB."""
    with open(f"/proc/{server.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """The server's RSS every ``every`` seconds on a thread, until stopped; ``peak`` in MB."""

    def __init__(self, server: Server, every: float = 0.25):
        self.server, self.every, self.peak = server, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_mb(self.server))
            except OSError:
                return
            self._stop.wait(self.every)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


# --------------------------------------------------------------------------------- sessions
@dataclass
class SessionResult:
    name: str
    moves: int = 0
    downloads: int = 0
    unsettled: int = 0  # moves after which thumb and number box still differed (SETTLE_MS)
    problems: list[str] = field(default_factory=list)


async def _idle(page) -> None:
    await page.wait_for_timeout(250)
    await page.wait_for_selector(IDLE)


async def _exact(page, i: int) -> float:
    return float(await page.locator(f".st-key-thr_{i}_number input").input_value())


def _foreign(text: str, mine: SessionFile, everyone: list[SessionFile]) -> list[str]:
    """Markers of other sessions in a page's text, each with that session's file name."""
    return [f"{other.marker} ({other.name})" for other in everyone
            if other is not mine and other.marker in text]


async def one_session(browser, url: str, mine: SessionFile, everyone: list[SessionFile],
                      deadline: float, seed: int) -> SessionResult:
    from playwright.async_api import TimeoutError as SettleTimeout, expect

    result = SessionResult(mine.name)
    rng = np.random.default_rng(seed)
    context = await browser.new_context(viewport={"width": 1366, "height": 900},
                                        accept_downloads=True)
    context.set_default_timeout(180_000)
    page = await context.new_page()
    try:
        await page.goto(url)
        await _idle(page)
        await page.locator(UPLOAD_INPUT).set_input_files(str(mine.path))
        await _idle(page)
        for i, c in enumerate(mine.classes):
            await expect(page.locator(f".st-key-thr_{i}_slider")).to_contain_text(c, timeout=180_000)
        # At least one full cycle (move, check, download) however long the upload took.
        while result.downloads == 0 or time.monotonic() < deadline:
            c = int(rng.integers(len(mine.classes)))
            handle = page.locator(f".st-key-thr_{c}_slider").get_by_role("slider")
            await handle.focus()
            presses = int(rng.integers(1, 6))
            key = "Home" if await _exact(page, c) > 0.9 else "ArrowRight"
            for _ in range(presses):
                await handle.press(key)
            # Each press may start its own rerun, and a press the server reads as a stale echo
            # is pushed back: settled when the thumb and the server's number box agree. Under
            # heavy load they may not within the wait; that is counted, not an isolation problem.
            try:
                await page.wait_for_function(
                    "([slider, number]) => {"
                    " const s = document.querySelector(slider + ' input[type=range]')"
                    "   || document.querySelector(slider + ' [role=slider]');"
                    " const n = document.querySelector(number);"
                    " if (!s || !n) return false;"
                    " const v = s.value !== undefined && s.value !== '' ? s.value"
                    "   : s.getAttribute('aria-valuenow');"
                    " return Math.abs(Number(v) - Number(n.value)) < 1e-6; }",
                    arg=[f".st-key-thr_{c}_slider", f".st-key-thr_{c}_number input"],
                    timeout=SETTLE_MS,
                )
            except SettleTimeout:
                result.unsettled += 1
            await _idle(page)
            result.moves += 1
            text = await page.locator("body").inner_text()
            if foreign := _foreign(text, mine, everyone):
                result.problems.append(f"Thresholds page shows {foreign}")
            if f"{mine.rows:,} rows" not in text and f"{mine.rows} rows" not in text:
                result.problems.append(f"Thresholds page does not show its {mine.rows} rows")

            await page.get_by_test_id("stSidebarNavLink").filter(has_text="Export").click()
            await _idle(page)
            async with page.expect_download() as info:
                await page.locator(".st-key-export_json button").click()
            download = await info.value
            config = json.loads(Path(await download.path()).read_text(encoding="utf-8"))
            result.downloads += 1
            # The session's own thresholds, as its server side wrote them into its URL.
            values = [float(v) for v in parse_qs(urlparse(page.url).query)["t"][0].split(",")]
            problems = _check_config(config, mine, values)
            result.problems.extend(problems)
            text = await page.locator("body").inner_text()
            if foreign := _foreign(text, mine, everyone):
                result.problems.append(f"Export page shows {foreign}")
            await page.get_by_test_id("stSidebarNavLink").filter(has_text="Thresholds").click()
            await _idle(page)
        if await page.get_by_test_id("stException").count():
            result.problems.append("a traceback is shown")
    except Exception as exc:  # noqa: BLE001 - a session that breaks is a finding, reported
        result.problems.append(f"session failed: {type(exc).__name__}: {str(exc)[:300]}")
    finally:
        await context.close()
    return result


def _check_config(config: dict, mine: SessionFile, values: list[float]) -> list[str]:
    problems = []
    if tuple(config.get("classes", ())) != mine.classes:
        problems.append(f"config classes {config.get('classes')} are not {list(mine.classes)}")
    got = [config.get("thresholds", {}).get(c) for c in mine.classes]
    if got != values:
        problems.append(f"config thresholds {got} are not the page's {values}")
    data = config.get("data") or {}
    if (data.get("file"), data.get("sha256"), data.get("rows")) != (mine.name, mine.sha256, mine.rows):
        problems.append(f"config data {data} is not {mine.name} ({mine.rows} rows)")
    return problems


@dataclass
class LoadTestResult:
    sessions: int
    seconds: float
    rounds: int
    rss_start_mb: float
    rss_peak_mb: float
    rss_after_mb: list[float]  # after each round, every session closed
    moves: int
    downloads: int
    unsettled: int
    problems: list[str]


async def _round(url: str, files: list[SessionFile], seconds: float, seed: int):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await launch_chromium(p)
        try:
            deadline = time.monotonic() + seconds
            return await asyncio.gather(*(
                one_session(browser, url, f, files, deadline, seed + i) for i, f in enumerate(files)
            ))
        finally:
            await browser.close()


def load_test(directory: Path, sessions: int = 8, seconds: float = 30, rounds: int = 1,
              settle: float = 3.0, log: Path | None = None) -> LoadTestResult:
    """Run ``rounds`` rounds of ``sessions`` concurrent sessions for ``seconds`` each on one
    server; RSS read before, sampled during, and read ``settle`` seconds after each round."""
    files = session_files(directory, sessions)
    server = Server("app.py", log=log, timeout=90)
    try:
        start = rss_mb(server)
        sampler = Sampler(server)
        after, results = [], []
        for r in range(rounds):
            # A thread of its own: the caller may already run an event loop (Playwright's sync
            # API does, in a test session that has used it), and asyncio.run needs none running.
            with ThreadPoolExecutor(max_workers=1) as pool:
                results += pool.submit(
                    lambda r=r: asyncio.run(_round(server.url, files, seconds, seed=100 * r))
                ).result()
            time.sleep(settle)  # sessions end when their websocket closes
            after.append(rss_mb(server))
        peak = sampler.stop()
    finally:
        server.stop()
    problems = [f"{res.name}: {p}" for res in results for p in res.problems]
    return LoadTestResult(sessions, seconds, rounds, start, max(peak, *after), after,
                          sum(r.moves for r in results), sum(r.downloads for r in results),
                          sum(r.unsettled for r in results), problems)


def _settles(res: LoadTestResult, growth_mb: float = 60) -> bool:
    """Later rounds of the same sessions leave the server within ``growth_mb`` of the first."""
    return max(res.rss_after_mb) - res.rss_after_mb[0] <= growth_mb


def run(report, size) -> None:
    """Benchmark 4's sessions row: 8 concurrent sessions on the 3-class sample."""
    import tempfile

    from benchmarks.common import Row

    seconds = 20 if size.quick else 60
    with tempfile.TemporaryDirectory() as tmp:
        res = load_test(Path(tmp), sessions=8, seconds=seconds, rounds=2)
    note = (f"{res.moves} slider moves, {res.downloads} config downloads in {res.rounds} rounds "
            f"of {res.seconds:.0f} s ({res.unsettled} moves whose thumb and number box had not agreed "
            f"after {SETTLE_MS // 1000} s); RSS after each round {', '.join(f'{a:.0f}' for a in res.rss_after_mb)} MB; "
            f"isolation problems: {len(res.problems)}")
    report.add(Row("4", f"peak server RSS, {res.sessions} concurrent sessions, 3-class sample",
                   res.rss_peak_mb, "MB", baseline=res.rss_start_mb,
                   baseline_name="server RSS before the sessions",
                   budget="isolated; memory back after each round",
                   ok=not res.problems and _settles(res), note=note))
    if res.problems:
        report.notes.append("Sessions: " + "; ".join(res.problems[:10]))


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m benchmarks.sessions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        res = load_test(Path(tmp), args.sessions, args.seconds, args.rounds)
    print(json.dumps(res.__dict__, indent=1))
    return 1 if res.problems else 0


if __name__ == "__main__":
    sys.exit(main())
