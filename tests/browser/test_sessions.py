"""Eight people on one server at once: each sees only its own data and downloads only its own
config, and the server's memory comes back to the same level after every round of sessions.

Driven by ``benchmarks/sessions.py`` (benchmark 4 runs the same at a larger size).
"""

import sys
from pathlib import Path

from browser_support import need_chromium

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.sessions import load_test  # noqa: E402

SESSIONS = 8
ROUND_GROWTH_MB = 60
"""A later round of the same sessions may cost this much more server memory than the first."""
PEAK_MB = 1024
"""Eight sessions on a 178-row file stay far below this (about 200-250 MB measured)."""


def test_eight_concurrent_sessions_stay_isolated_and_memory_stays_bounded(tmp_path):
    need_chromium()
    result = load_test(tmp_path, sessions=SESSIONS, seconds=8, rounds=2,
                       log=ROOT / ".pytest_cache" / "streamlit-sessions.log"
                       if (ROOT / ".pytest_cache").is_dir() else None)
    assert result.problems == []
    # every session moved a slider and downloaded its config at least once per round
    assert result.downloads >= SESSIONS * 2 and result.moves >= SESSIONS * 2
    first, second = result.rss_after_mb
    assert second - first <= ROUND_GROWTH_MB, result
    assert result.rss_peak_mb <= PEAK_MB, result
