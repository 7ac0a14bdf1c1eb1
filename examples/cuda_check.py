"""Check ThresholdHead on CUDA against thresholdlab.apply (numpy) and against the CPU head.

For every task, score kind and decision rule: random logits with ties (one decimal) and
thresholds set exactly at scores, decided by ``thresholdlab.apply`` on numpy float64 (the
reference), then by ThresholdHead eagerly, scripted (TorchScript) and exported (torch.export),
on CPU and on CUDA. Prints one line per case and a summary.

Expected: eager heads equal apply everywhere. Scripted and exported heads equal apply for
probability and sigmoid configs; softmax configs may differ only on rows the head flags as
hanging on the last bit of exp (numpy's exp, torch's CPU exp and CUDA's exp each round a few
percent of inputs differently), and those rows are counted separately.

Run:  python examples/cuda_check.py [--rows N]   (exit 0 with a message when there is no GPU;
exit 1 when a decision differs where it must not)
"""

from __future__ import annotations

import argparse
import sys
import warnings

import numpy as np
import torch

from thresholdlab.config import ThresholdConfig, apply
from thresholdlab.predictions import sigmoid, softmax
from thresholdlab.torch import ThresholdHead

RULES = [
    ("binary", "threshold", "none"),
    ("multilabel", "threshold", "none"),
    ("multilabel", "threshold", "at_least_one"),
    ("multiclass", "argmax", "abstain"),
    ("multiclass", "argmax", "fallback_argmax"),
    ("multiclass", "threshold_argmax", "abstain"),
    ("multiclass", "threshold_argmax", "fallback_argmax"),
]


def case(task, rule, no_prediction, kind, rows, seed):
    rng = np.random.default_rng(seed)
    k = {"binary": 1, "multilabel": 30, "multiclass": 10}[task]
    if kind == "logit":
        x = np.round(rng.normal(0, 3, (rows, k)), 1)
        x[: rows // 2] = rng.normal(0, 3, (rows // 2, k)).astype(np.float32)  # float32 outputs
    else:
        x = np.round(rng.random((rows, k)), 1)
    p = x if kind == "probability" else (softmax(x) if task == "multiclass" else sigmoid(x))
    t = p[rng.integers(0, rows, k), np.arange(k)]  # thresholds exactly at scores
    classes = [f"c{j}" for j in range(k)]
    config = ThresholdConfig(
        task=task, classes=classes, score_kind=kind, thresholds=dict(zip(classes, t.tolist())),
        decision_rule=rule, no_prediction=no_prediction,
    )
    return config, x


def differing_rows(got: torch.Tensor, reference: np.ndarray) -> np.ndarray:
    got = got.cpu().numpy()
    return (got != reference).reshape(len(reference), -1).any(axis=1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="ThresholdHead on CUDA vs CPU vs apply")
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print("No CUDA device here (torch.cuda.is_available() is False); nothing to check.")
        return 0
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, {args.rows} rows per case")
    warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
    failures = 0
    for i, (task, rule, no_prediction) in enumerate(RULES):
        for kind in ("logit", "probability"):
            config, x = case(task, rule, no_prediction, kind, args.rows, seed=i)
            reference = apply(config, x)
            head = ThresholdHead(config)
            unsure = head._unsure_rows(torch.from_numpy(x)).numpy()
            exact_without_numpy = config.activation != "softmax"
            parts = []
            for device in ("cpu", "cuda"):
                head = head.to(device)
                scores = torch.from_numpy(x).to(device)
                heads = {
                    "eager": head,
                    "script": torch.jit.script(head),
                    "export": torch.export.export(
                        head, (scores,),
                        dynamic_shapes={"scores": {0: torch.export.Dim("batch")}},
                    ).module(),
                }
                for name, h in heads.items():
                    out = h(scores)
                    assert out.device == scores.device
                    differ = differing_rows(out, reference)
                    may_differ = name != "eager" and not exact_without_numpy
                    bad = differ & ~unsure if may_differ else differ
                    failures += int(bad.any())
                    note = f" ({int(differ.sum())} last-bit rows)" if may_differ and differ.any() else ""
                    parts.append(f"{device}/{name} {'ok' if not bad.any() else f'{int(bad.sum())} WRONG'}{note}")
            print(f"{task:10} {kind:11} {rule:16} {no_prediction:15} " + ", ".join(parts))
    if failures:
        print(f"FAILED: {failures} head(s) differ from thresholdlab.apply where they must not.")
        return 1
    print("All heads agree with thresholdlab.apply (last-bit softmax rows aside, as documented).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
