"""From a PyTorch model to served thresholds, end to end (a 3-class softmax network given as logits).

A three-class softmax network on scikit-learn's wine data (no download), with the labels 1, 2, 3
the way the original UCI file numbers the cultivars:

1. train the network (outputs are logits; output k is label k + 1);
2. ``thresholdlab.torch.collect`` its validation predictions into ``wine_validation.csv``
   (logit columns, the 1-based labels as they are);
3. choose per-class thresholds with the command line:
   ``thresholdlab optimize wine_validation.csv --objective "precision>=0.9" -o wine_thresholds.json``
   (each class as sure as 90% precision allows; rows no class is sure of get no prediction);
4. serve them: ``nn.Sequential(model, ThresholdHead(config))`` returns a class index per row, or -1
   for "no prediction", exactly as ``thresholdlab.apply`` decides; exported with ``torch.export``.

Run:  python examples/wine_softmax.py [--out DIR]     (under ten seconds on one CPU)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import thresholdlab
from thresholdlab.config import ThresholdConfig
from thresholdlab.torch import ThresholdHead, collect

SEED = 20240601
CULTIVARS = ["barolo", "grignolino", "barbera"]  # load_wine's targets 0, 1, 2 = labels 1, 2, 3
# Three of the thirteen measurements: with all of them the classes separate perfectly and no
# threshold matters; with these the model is sure of most wines, not all.
FEATURES = ["alcohol", "hue", "ash"]
OBJECTIVE = "precision>=0.9"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the files (default: a temporary one)")
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="thresholdlab-wine-"))
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(SEED)

    # ---------------------------------------------------------------- 1. data and model
    wine = load_wine(as_frame=True)
    x = wine.data[FEATURES].to_numpy(np.float32)
    labels = wine.target.to_numpy() + 1  # 1-based, as in the UCI file
    x_train, x_rest, y_train, y_rest = train_test_split(
        x, labels, test_size=0.5, stratify=labels, random_state=SEED
    )
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=SEED
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)

    model = nn.Sequential(nn.Linear(len(FEATURES), 16), nn.ReLU(), nn.Linear(16, 3))
    train_model(model, (x_train - mean) / std, y_train)
    print(f"1. Trained a 3-class network on {len(x_train)} wines ({', '.join(FEATURES)}); "
          "it outputs logits, and output k is label k + 1.")

    # --------------------------------------------------------- 2. collect validation scores
    val_loader = loader((x_val - mean) / std, y_val)
    validation_csv = out / "wine_validation.csv"
    frame = collect(model, val_loader, class_names=CULTIVARS, output=validation_csv)
    print(f"2. collect wrote {len(frame)} validation rows to {validation_csv}:")
    print("   columns " + ", ".join(frame.columns))
    for note in frame.attrs["thresholdlab"]["notes"]:
        print(f"   {note}")

    # ------------------------------------------------------ 3. thresholds from the CLI
    config_path = out / "wine_thresholds.json"
    optimize(validation_csv, config_path)
    config = ThresholdConfig.load(config_path)
    shown = ", ".join(f"{c} {t:.4g}" for c, t in config.thresholds.items())
    print(f"3. thresholdlab optimize --objective '{OBJECTIVE}' chose: {shown} "
          f"(rule {config.decision_rule}, {config.no_prediction} when no class is sure)")

    # -------------------------------------------------------------- 4. serve them
    served = nn.Sequential(model, ThresholdHead(config)).eval()
    x_served = torch.from_numpy((x_test - mean) / std)
    with torch.inference_mode():
        decisions = served(x_served)
        logits = model(x_served)
    reference = thresholdlab.config.apply(config, logits.numpy())
    assert np.array_equal(decisions.numpy(), reference), "ThresholdHead must equal apply"

    exported = torch.export.export(served, (x_served,)).module()
    assert torch.equal(exported(x_served), decisions), "the exported pipeline must agree"

    covered = decisions >= 0
    predicted = np.asarray(CULTIVARS + ["(no prediction)"], dtype=object)[
        torch.where(covered, decisions, torch.tensor(3)).numpy()
    ]
    correct = (decisions + 1 == torch.from_numpy(y_test)) & covered  # back to 1-based labels
    argmax_correct = (logits.argmax(dim=1) + 1 == torch.from_numpy(y_test)).float().mean()
    print(f"4. Served nn.Sequential(model, ThresholdHead(config)) on {len(y_test)} held-out wines:")
    print(f"   coverage {covered.float().mean():.0%}, accuracy on covered rows "
          f"{correct.sum() / max(int(covered.sum()), 1):.0%} "
          f"(plain argmax: {argmax_correct:.0%} on all rows)")
    print("   first rows: " + ", ".join(predicted[:6]))
    print("   decisions equal thresholdlab.apply(config, logits), eagerly and after torch.export.")
    print(f"Files are in {out}")
    return 0


def train_model(model: nn.Module, x: np.ndarray, labels: np.ndarray, epochs: int = 150) -> None:
    """Full-batch Adam; the loss wants class indices 0..2, so the 1-based labels shift by one."""
    inputs = torch.from_numpy(x)
    targets = torch.from_numpy(labels - 1).long()
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        optimiser.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimiser.step()


def loader(x: np.ndarray, labels: np.ndarray) -> DataLoader:
    """Batches of (features, 1-based label), as a validation loader would yield them."""
    return DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(labels)), batch_size=16)


def optimize(data: Path, config_path: Path) -> None:
    """``thresholdlab optimize`` in a subprocess, exactly as one would type it in a shell."""
    command = [
        sys.executable, "-m", "thresholdlab", "optimize", str(data),
        "--objective", OBJECTIVE, "-o", str(config_path),
    ]
    print("   $ thresholdlab " + " ".join(f"'{a}'" if ">" in a else a for a in command[3:]))
    done = subprocess.run(command, capture_output=True, text=True)
    for line in (done.stdout + done.stderr).strip().splitlines():
        print(f"   | {line}")
    if done.returncode != 0:
        raise SystemExit(f"thresholdlab optimize failed with exit code {done.returncode}")


if __name__ == "__main__":
    raise SystemExit(main())
