"""What every reader must do with any input, as plain functions shared by the property tests
(``test_*.py`` here, hypothesis) and the coverage-guided fuzzer (``run.py``, atheris).

Each target takes the bytes of a file and either loads it correctly or raises the reader's
:class:`DataError` with one sentence. Anything else escapes: the property tests and the fuzzer
report it. A correct load is checked, not trusted: the data set is whole and consistent, the
dashboard's core path (index, metrics, optimum, config round trip, decisions CSV) runs on it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os

import numpy as np

import thresholdlab as tl
from thresholdlab.config import ThresholdConfig
from thresholdlab.decisions import DecisionRule, decide, decisions_frame
from thresholdlab.predictions import DataError
from thresholdlab.spreadsheet_safety import FORMULA_STARTS, safe_csv

SCALE = int(os.environ.get("THRESHOLDLAB_PROPERTY_SCALE", "1"))
"""Multiplies every property test's example budget; ``make test`` runs 1 (the set in seconds)."""


def budget(examples: int):
    """Hypothesis settings for ``examples`` inputs (times SCALE). At the default scale the run is
    derandomised, so ``make test`` is repeatable; a larger scale explores new inputs each run."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,
        database=None if SCALE == 1 else settings.default.database,
        suppress_health_check=list(HealthCheck),
    )


USABLE_MAX_CLASSES = 50

MAX_MESSAGE = 2000
"""A message longer than this is not "one sentence" any more."""

# Extensions per reader; the name given with the bytes picks the parser.
NAMES = {"csv": "fuzz.csv", "tsv": "fuzz.tsv", "parquet": "fuzz.parquet", "npz": "fuzz.npz",
         "pt": "fuzz.pt"}


def check_message(exc: DataError, starts: tuple[str, ...]) -> None:
    """One sentence for a person: starts by naming the file, one line, ends like a sentence."""
    text = str(exc)
    assert text.startswith(starts), text
    assert "Traceback" not in text, text
    assert len(text) <= MAX_MESSAGE, text[:200]
    assert text.rstrip()[-1] in ".)'\"", text


def check_loaded(pset: tl.PredictionSet, data: bytes) -> None:
    """A load that returned is a correct, usable data set."""
    n, k = pset.n_rows, pset.n_classes
    assert pset.task in tl.predictions.TASKS
    assert k >= 1 and len(set(pset.classes)) == k
    assert all(isinstance(c, str) for c in pset.classes)
    assert (k == 1) == (pset.task == "binary")
    assert pset.scores.shape == (n, k) and pset.probabilities.shape == (n, k)
    assert np.isfinite(pset.scores).all() and np.isfinite(pset.probabilities).all()
    assert n == 0 or (pset.probabilities.min() >= 0 and pset.probabilities.max() <= 1)
    if pset.task == "multiclass":
        assert pset.labels.shape == (n,) and pset.labels.dtype == np.int64
        assert n == 0 or (pset.labels.min() >= 0 and pset.labels.max() < k)
    else:
        assert pset.labels.shape == (n, k) and pset.labels.dtype == bool
    assert pset.ids is None or len(pset.ids) == n
    assert pset.sha256 == hashlib.sha256(data).hexdigest()
    assert all(isinstance(s, str) and s for s in (*pset.notes, *pset.warnings))
    # The core's per-class steps cost milliseconds a class: thousands of classes are checked
    # for a correct load only (the wide-file tests), not run through the whole path.
    if k <= USABLE_MAX_CLASSES:
        check_usable(pset)


def check_usable(pset: tl.PredictionSet) -> None:
    """What the dashboard and the CLI do next runs: index, metrics, optimum, config, decisions."""
    rule = DecisionRule.default(pset.task)
    index = tl.CurveIndex.build(pset, rule)
    best = tl.optimise(index, "f1")
    report = tl.evaluate(index, best.thresholds)
    config = ThresholdConfig.from_choice(pset, best.thresholds, rule, objective="f1",
                                         metrics=report.to_dict())
    text = config.to_json()
    back = ThresholdConfig.from_json(text.encode("utf-8"), source="round-trip.json")
    back.check_matches(pset)
    assert back.thresholds_for(pset.classes).tobytes() == best.thresholds.tobytes()
    written = safe_csv(decisions_frame(pset, decide(pset.probabilities, best.thresholds, rule)))
    for row in csv.reader(io.StringIO(written, newline="")):
        for cell in row:
            if cell.startswith(FORMULA_STARTS):
                float(cell)  # a cell starting so must be a plain number


def load_target(kind: str, data: bytes) -> tl.PredictionSet | None:
    """Load ``data`` as a ``kind`` file; None when the reader refused it in one sentence."""
    name = NAMES[kind]
    try:
        pset = tl.load(data, name=name)
    except DataError as exc:
        check_message(exc, (f"File '{name}'", f"'{name}'"))
        return None
    check_loaded(pset, data)
    return pset


def config_target(data: bytes, pset: tl.PredictionSet | None = None) -> ThresholdConfig | None:
    """Read ``data`` as a threshold config (and line it up with ``pset`` when given)."""
    try:
        config = ThresholdConfig.from_json(data, source="fuzz.json")
        if pset is not None:
            config.check_matches(pset)
            config.thresholds_for(pset.classes)
    except DataError as exc:
        check_message(exc, ("Config 'fuzz.json'", "The config", "Invalid threshold config"))
        return None
    # A config that reads is whole: one finite threshold in [0, 1] per class, and it writes back
    # to a file that reads as the same config.
    values = [config.thresholds[c] for c in config.classes]
    assert all(isinstance(v, float) and 0 <= v <= 1 for v in values), values
    again = ThresholdConfig.from_json(config.to_json().encode("utf-8"), source="again.json")
    assert again.classes == config.classes and dict(again.thresholds) == dict(config.thresholds)
    json.loads(config.to_json())
    return config


# ----------------------------------------------------------------------- seeds for the fuzzer
def valid_csv(rows: int = 20, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(3), size=rows)
    lines = ["id,label,p_cat,p_dog,p_eel"]
    lines += [f"{i},{['cat', 'dog', 'eel'][i % 3]},{a:.3f},{b:.3f},{c:.3f}" for i, (a, b, c) in enumerate(p)]
    return ("\n".join(lines) + "\n").encode()


def seeds(kind: str) -> list[bytes]:
    """A few valid and nearly valid files of one format, for the fuzzer's starting corpus."""
    import pandas as pd

    rng = np.random.default_rng(1)
    if kind in ("csv", "tsv"):
        sep = "," if kind == "csv" else "\t"
        base = valid_csv().replace(b",", sep.encode())
        return [
            base,
            b"\xef\xbb\xbf" + base.replace(b"\n", b"\r\n"),
            b"# exported by a pipeline\n" + base,
            "label;p_a;p_b\n0;0,2;0,8\n1;0,7;0,3\n".encode(),
            b'y,score\n"1","0.9"\n"0","0.2"\n\n',
            b"y_a,y_b,logit_a,logit_b\n0,1,-1.5,2\n1,1,0.3,0.1\n",
            "label,p_caf\u00e9,p_b\ncaf\u00e9,.7,.3\n".encode("utf-16"),
        ]
    if kind == "parquet":
        out = []
        frames = [
            pd.DataFrame({"label": [0, 1, 2, 1], "p_a": [.2, .3, .4, .1], "p_b": [.5, .3, .2, .8],
                          "p_c": [.3, .4, .4, .1]}),
            pd.DataFrame({"y": [0, 1], "score": [0.1, 0.9]}),
            pd.DataFrame({"label": pd.Series([], dtype="int64"), "p_a": pd.Series([], dtype=float)}),
        ]
        for frame in frames:
            buffer = io.BytesIO()
            frame.to_parquet(buffer)
            out.append(buffer.getvalue())
        return out
    if kind == "npz":
        out = []
        for arrays in (
            {"scores": rng.random((6, 3)), "labels": np.arange(6) % 3,
             "classes": np.array(["a", "b", "c"])},
            {"scores": rng.random(5).astype(np.float32), "labels": np.array([0, 1, 1, 0, 1])},
        ):
            buffer = io.BytesIO()
            np.savez(buffer, **arrays)
            out.append(buffer.getvalue())
        return out
    if kind == "pt":
        import torch

        out = []
        for obj in (
            {"scores": torch.rand(6, 3), "labels": torch.arange(6) % 3, "classes": ["a", "b", "c"]},
            {"scores": torch.randn(4, 2), "labels": torch.tensor([[0, 1], [1, 0], [1, 1], [0, 0]])},
        ):
            buffer = io.BytesIO()
            torch.save(obj, buffer)
            out.append(buffer.getvalue())
        return out
    if kind == "config":
        pset = tl.load(valid_csv(), name="seed.csv")
        rule = DecisionRule.default(pset.task)
        config = ThresholdConfig.from_choice(pset, np.array([0.2, 0.4, 0.4]), rule)
        return [config.to_json().encode(), b'{"schema_version": 1}', b"[]"]
    raise ValueError(f"unknown reader {kind!r}")
