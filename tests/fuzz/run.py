"""Coverage-guided fuzzing of every reader with atheris (libFuzzer for Python).

    python tests/fuzz/run.py READER [libFuzzer options]      READER: csv tsv parquet npz pt config

``make fuzz`` runs every reader for ``FUZZ_SECONDS`` each. A run starts from a corpus of valid
and nearly valid files (``targets.seeds``), kept in ``.fuzz/<reader>/`` (or under
``$THRESHOLDLAB_FUZZ_DIR``) so that later runs go on from what earlier runs found. A crash is any exception other than the reader's one-sentence
``DataError``, or a failed check of a load that returned (``targets.check_loaded``); libFuzzer
writes the input to ``.fuzz/crashes/`` and stops with a non-zero exit code. An input that runs
longer than ``-timeout`` seconds or takes more than ``-rss_limit_mb`` counts as a crash too.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
READERS = ("csv", "tsv", "parquet", "npz", "pt", "config")

sys.path.insert(0, str(HERE))
with atheris.instrument_imports(include=["thresholdlab"]):
    import thresholdlab  # noqa: F401  (instrumented before targets imports it)
    import thresholdlab.config  # noqa: F401
    import thresholdlab.loading  # noqa: F401
import targets  # noqa: E402


def _one_input(reader: str):
    if reader == "config":
        # Half the time the config is also lined up with a small data set (classes, task).
        pset = targets.load_target("csv", targets.valid_csv())

        def test(data: bytes) -> None:
            targets.config_target(data, pset if data[:1] in (b"{", b" ") else None)

        return test

    def test(data: bytes) -> None:
        targets.load_target(reader, data)

    return test


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in READERS:
        sys.exit(f"usage: run.py {{{','.join(READERS)}}} [libFuzzer options]")
    reader = sys.argv[1]
    work = Path(os.environ.get("THRESHOLDLAB_FUZZ_DIR") or ROOT / ".fuzz")
    corpus = work / reader
    crashes = work / "crashes"
    corpus.mkdir(parents=True, exist_ok=True)
    crashes.mkdir(parents=True, exist_ok=True)
    for seed in targets.seeds(reader):
        (corpus / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
    argv = [sys.argv[0], *sys.argv[2:], f"-artifact_prefix={crashes}/{reader}-", str(corpus)]
    if not any(a.startswith("-timeout=") for a in argv):
        argv.insert(1, "-timeout=30")
    if not any(a.startswith("-rss_limit_mb=") for a in argv):
        argv.insert(1, "-rss_limit_mb=3072")
    if not any(a.startswith("-max_len=") for a in argv):
        argv.insert(1, "-max_len=65536")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    atheris.Setup(argv, _one_input(reader))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
