"""Make the four bundled sample prediction files, one per kind of model users bring.

Each file holds honest out-of-fold scores of a small PyTorch model trained on a dataset that
ships with scikit-learn, next to the true labels, exactly as a data scientist would save them
from a validation run:

``multiclass_wine_logits.csv``
    3-class softmax network on ``load_wine``; raw logits, 1-based integer labels.
``binary_breast_cancer.csv``
    sigmoid model on ``load_breast_cancer``; probabilities of "malignant", 0/1 truth.
``multilabel_digits_10.csv``
    10 overlapping yes/no properties of the digit in ``load_digits`` (even, prime, has a
    loop, ...); one network with 10 sigmoid outputs; probabilities.
``multilabel_sparse_30_logits.csv``
    30 sparse, imbalanced labels (0.5% to 10% positive) derived from ``load_digits`` (a digit
    combined with a property of its ink: bold, faint, slanted, ...); one network with 30
    sigmoid outputs trained with ``pos_weight``; raw logits.

Why out-of-fold: the datasets are small, so every row is scored by a model trained with stratified
5-fold cross-validation on the other four folds (features standardised with that training fold's
statistics only). Every score is therefore a held-out prediction, as a validation set's would be.

Why the models are handicapped (few features, a low-resolution image, short training): these
datasets are easy, and with near-perfect scores every threshold looks the same. Each model is
made just weak enough that moving a threshold visibly trades precision for recall.

The output is deterministic: fixed seeds, one CPU thread, deterministic torch kernels, and floats
written with 6 significant digits (the rounding makes a few tied scores, which real files have
too). Regenerate with::

    python sample_data/make_samples.py
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.metrics import accuracy_score, average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from torch import nn

OUT_DIR = Path(__file__).resolve().parent
SEED = 20240601
N_FOLDS = 5
# 6 significant digits keeps every file well under 1 MB while leaving scores distinct enough.
FLOAT_FORMAT = "%.6g"

# The wine cultivars in the order of load_wine's target 0, 1, 2 (Forina et al., PARVUS data).
WINE_CULTIVARS = ("barolo", "grignolino", "barbera")
# Three measurements that tell the cultivars apart most of the time, not always (all 13 features
# give a near-perfect model, and then no threshold matters).
WINE_FEATURES = ("alcohol", "hue", "ash")

# Size, texture and symmetry, but none of the concavity or "worst" features that make the
# breast-cancer data nearly separable.
BREAST_CANCER_FEATURES = ("mean radius", "mean texture", "mean symmetry")

# Ten yes/no properties of a digit. They overlap (8 is even, a power of two, has a loop and two
# loops), none is the complement of another, and prevalence runs from ~10% to ~50%.
DIGIT_PROPERTIES: dict[str, tuple[int, ...]] = {
    "even": (0, 2, 4, 6, 8),
    "greater_than_4": (5, 6, 7, 8, 9),
    "prime": (2, 3, 5, 7),
    "has_loop": (0, 6, 8, 9),
    "perfect_square": (0, 1, 4, 9),
    "power_of_two": (1, 2, 4, 8),
    "multiple_of_3": (3, 6, 9),
    "straight_strokes_only": (1, 4, 7),
    "two_loops": (8,),
    "zero": (0,),
}


def _set_determinism() -> None:
    # One thread and deterministic kernels: the same bytes on every rerun on this machine.
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def _fold_ids(strata: np.ndarray) -> np.ndarray:
    """Fold number (0..N_FOLDS-1) of every row, stratified on ``strata``, shape (n,)."""
    folds = np.empty(len(strata), dtype=np.int64)
    splitter = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=SEED)
    for fold, (_, test) in enumerate(splitter.split(np.zeros(len(strata)), strata)):
        folds[test] = fold
    return folds


def _out_of_fold_logits(
    x: np.ndarray,
    y: np.ndarray,
    folds: np.ndarray,
    build_model: Callable[[int, int], nn.Module],
    build_loss: Callable[[torch.Tensor], nn.Module],
    epochs: int,
    lr: float,
    weight_decay: float = 0.0,
) -> np.ndarray:
    """Raw model outputs for every row, each from the model that did not see that row.

    Parameters
    ----------
    x : ndarray of float, shape (n, d)
        Features, unscaled.
    y : ndarray, shape (n,) of int class ids or (n, K) of 0/1
        Targets in the form ``build_loss``'s loss expects.
    folds : ndarray of int, shape (n,)
        Fold of each row; fold f's rows are scored by the model trained on the others.
    build_model : callable (n_features, n_outputs) -> nn.Module
    build_loss : callable (training targets as a tensor) -> loss module
        Gets the training fold's targets so that class weights come from training data only.
    epochs, lr, weight_decay
        Full-batch Adam settings (the datasets are tiny, so one batch is the whole fold).

    Returns
    -------
    ndarray of float64, shape (n, K)
        Logits: no softmax or sigmoid applied.
    """
    n_outputs = int(y.max()) + 1 if y.ndim == 1 else y.shape[1]
    logits = np.empty((len(x), n_outputs))
    for fold in range(N_FOLDS):
        train, test = folds != fold, folds == fold
        # Standardise with the training fold's statistics only, so nothing leaks from test rows.
        mean = x[train].mean(axis=0)
        std = x[train].std(axis=0)
        std[std == 0] = 1.0
        x_train = torch.tensor((x[train] - mean) / std, dtype=torch.float32)
        x_test = torch.tensor((x[test] - mean) / std, dtype=torch.float32)
        target_dtype = torch.long if y.ndim == 1 else torch.float32
        y_train = torch.tensor(y[train], dtype=target_dtype)

        # Seed per fold so each fold's model does not depend on how the others consumed the RNG.
        torch.manual_seed(SEED + fold)
        model = build_model(x.shape[1], n_outputs)
        loss_fn = build_loss(y_train)
        optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        model.train()
        for _ in range(epochs):
            optimiser.zero_grad()
            loss = loss_fn(model(x_train), y_train)
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            logits[test] = model(x_test).double().numpy()
    return logits


def _mlp(hidden: int) -> Callable[[int, int], nn.Module]:
    def build(n_in: int, n_out: int) -> nn.Module:
        return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    return build


def _linear(n_in: int, n_out: int) -> nn.Module:
    return nn.Linear(n_in, n_out)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # torch's sigmoid, as the model's users would apply it; stable for large |z|.
    return torch.sigmoid(torch.from_numpy(z)).numpy()


def _write(frame: pd.DataFrame, name: str) -> Path:
    path = OUT_DIR / name
    # Fixed line ending so the bytes do not depend on the operating system.
    frame.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    return path


def _summary(path: Path, frame: pd.DataFrame, quality: str) -> None:
    rows, cols = frame.shape
    size_kib = path.stat().st_size / 1024
    print(f"{path.name}: {rows} rows x {cols} columns, {size_kib:.0f} KiB, {quality}")


def make_multiclass_wine() -> pd.DataFrame:
    """Scenario "3-class softmax network outputs logits": wine cultivars, raw logits.

    Labels are written 1-based (1, 2, 3) as many exports number classes, so loading must
    infer the mapping.
    """
    data = load_wine(as_frame=True)
    x = data.data.loc[:, list(WINE_FEATURES)].to_numpy(dtype=np.float64)
    y = data.target.to_numpy()
    logits = _out_of_fold_logits(
        x, y, _fold_ids(y), _linear, lambda _: nn.CrossEntropyLoss(), epochs=60, lr=0.05
    )
    frame = pd.DataFrame({"sample_id": np.arange(len(y))})
    for k, cultivar in enumerate(WINE_CULTIVARS):
        frame[f"logit_{cultivar}"] = logits[:, k]
    frame["label"] = y + 1
    path = _write(frame, "multiclass_wine_logits.csv")
    probabilities = torch.softmax(torch.tensor(logits), dim=1).numpy()
    quality = (
        f"accuracy {accuracy_score(y, logits.argmax(axis=1)):.3f}, "
        f"macro one-vs-rest ROC AUC {roc_auc_score(y, probabilities, multi_class='ovr'):.3f}"
    )
    _summary(path, frame, quality)
    return frame


def make_binary_breast_cancer() -> pd.DataFrame:
    """Scenario "Keras gives me probabilities": one sigmoid output, probability of malignant."""
    data = load_breast_cancer(as_frame=True)
    x = data.data.loc[:, list(BREAST_CANCER_FEATURES)].to_numpy(dtype=np.float64)
    # scikit-learn codes malignant as 0; the file uses the usual 1 = positive = malignant.
    y = 1 - data.target.to_numpy()
    logits = _out_of_fold_logits(
        x, y[:, None], _fold_ids(y), _mlp(8), lambda _: nn.BCEWithLogitsLoss(), epochs=150, lr=0.02
    )
    p = _sigmoid(logits[:, 0])
    frame = pd.DataFrame({"id": np.arange(len(y)), "p_malignant": p, "y_true": y})
    path = _write(frame, "binary_breast_cancer.csv")
    quality = (
        f"ROC AUC {roc_auc_score(y, p):.3f}, "
        f"average precision {average_precision_score(y, p):.3f}, "
        f"accuracy at 0.5 {accuracy_score(y, p >= 0.5):.3f}"
    )
    _summary(path, frame, quality)
    return frame


def _noisy_low_resolution_digits(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Digits as 4x4 images (2x2 average pooling of the 8x8 ones) plus sensor noise.

    Returns
    -------
    pixels : ndarray of float64, shape (n, 16)
    digit : ndarray of int, shape (n,)
    """
    data = load_digits()
    images = data.images.reshape(-1, 4, 2, 4, 2).mean(axis=(2, 4))
    pixels = images.reshape(len(images), -1) + rng.normal(0.0, 2.0, size=(len(images), 16))
    return pixels, data.target


def make_multilabel_digits() -> pd.DataFrame:
    """Scenario "multi-label model (sigmoid + binary cross-entropy)", 10 common labels.

    The network sees a blurred, noisy 4x4 version of each digit, so it confuses similar
    digits and its per-label scores overlap between positives and negatives.
    """
    rng = np.random.default_rng(SEED)
    pixels, digit = _noisy_low_resolution_digits(rng)
    names = list(DIGIT_PROPERTIES)
    truth = np.column_stack([np.isin(digit, DIGIT_PROPERTIES[n]) for n in names]).astype(np.int64)
    logits = _out_of_fold_logits(
        pixels, truth, _fold_ids(digit), _mlp(32), lambda _: nn.BCEWithLogitsLoss(),
        epochs=150, lr=0.01,
    )
    p = _sigmoid(logits)
    frame = pd.DataFrame({"id": np.arange(len(digit))})
    for k, name in enumerate(names):
        frame[f"p_{name}"] = p[:, k]
    for k, name in enumerate(names):
        frame[f"y_{name}"] = truth[:, k]
    path = _write(frame, "multilabel_digits_10.csv")
    aucs = [roc_auc_score(truth[:, k], p[:, k]) for k in range(len(names))]
    prevalence = truth.mean(axis=0)
    quality = (
        f"ROC AUC per label {min(aucs):.3f}-{max(aucs):.3f} (macro {np.mean(aucs):.3f}), "
        f"prevalence {prevalence.min():.1%}-{prevalence.max():.1%}"
    )
    _summary(path, frame, quality)
    return frame


def _ink_properties(images: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image measurements of the ink, each shape (n,); all follow from the pixels."""
    cols = np.arange(8)
    ink = images.sum(axis=(1, 2))
    column_ink = images.sum(axis=1)
    row_ink = images.sum(axis=2)
    centre_x = (column_ink * cols).sum(axis=1) / ink
    return {
        "ink": ink,
        "saturated": (images >= 15).sum(axis=(1, 2)).astype(np.float64),
        "centre_x": centre_x,
        "centre_y": (row_ink * cols).sum(axis=1) / ink,
        # Horizontal spread of the ink: continuous, unlike a count of inked columns, which is
        # 7 or 8 for most images and would make a "wide" label swallow a whole digit.
        "spread_x": np.sqrt((column_ink * (cols - centre_x[:, None]) ** 2).sum(axis=1) / ink),
    }


def _sparse_label_specs() -> list[tuple[str, int, str, str, float]]:
    """(name, digit, property, "high" or "low", share of that digit's images) per label.

    A label is "this digit, with this property in the top (high) or bottom (low) ``share`` of
    that digit's images". Every digit class is ~10% of rows, so a label's prevalence is about
    ``share / 10``; shares from 0.05 to 1.0 give prevalences from ~0.5% to ~10% (share 1.0 is
    the digit itself). Most digits keep many images that no label touches, so about a third
    of rows have no label at all, as in real sparse multi-label data.
    Listed from most to least common.
    """
    return [
        ("seven", 7, "ink", "high", 1.0),
        ("thick_three", 3, "saturated", "high", 0.7),
        ("thick_six", 6, "saturated", "high", 0.5),
        ("bold_four", 4, "ink", "high", 0.5),
        ("narrow_one", 1, "spread_x", "low", 0.4),
        ("bold_nine", 9, "ink", "high", 0.35),
        ("bold_zero", 0, "ink", "high", 0.3),
        ("faint_three", 3, "ink", "low", 0.3),
        ("wide_four", 4, "spread_x", "high", 0.3),
        ("faint_one", 1, "ink", "low", 0.25),
        ("right_leaning_six", 6, "centre_x", "high", 0.25),
        ("narrow_eight", 8, "spread_x", "low", 0.25),
        ("bold_two", 2, "ink", "high", 0.2),
        ("faint_five", 5, "ink", "low", 0.2),
        ("low_seven", 7, "centre_y", "high", 0.2),
        ("left_leaning_eight", 8, "centre_x", "low", 0.2),
        ("wide_nine", 9, "spread_x", "high", 0.18),
        ("faint_zero", 0, "ink", "low", 0.15),
        ("thick_one", 1, "saturated", "high", 0.15),
        ("left_leaning_two", 2, "centre_x", "low", 0.15),
        ("bold_eight", 8, "ink", "high", 0.15),
        ("high_five", 5, "centre_y", "low", 0.12),
        ("faint_seven", 7, "ink", "low", 0.12),
        ("bold_one", 1, "ink", "high", 0.1),
        ("right_leaning_three", 3, "centre_x", "high", 0.1),
        ("high_nine", 9, "centre_y", "low", 0.1),
        ("faint_six", 6, "ink", "low", 0.08),
        ("low_four", 4, "centre_y", "high", 0.07),
        ("faint_nine", 9, "ink", "low", 0.06),
        ("thin_eight", 8, "saturated", "low", 0.05),
    ]


def _sparse_labels(images: np.ndarray, digit: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Names and 0/1 truth, shape (n, 30), of the sparse labels of ``_sparse_label_specs``."""
    properties = _ink_properties(images)
    names, columns = [], []
    for name, d, prop, side, share in _sparse_label_specs():
        of_digit = digit == d
        values = properties[prop]
        if side == "high":
            cut = np.quantile(values[of_digit], 1.0 - share)
            hit = values >= cut
        else:
            cut = np.quantile(values[of_digit], share)
            hit = values <= cut
        names.append(name)
        columns.append(of_digit & hit)
    return names, np.column_stack(columns).astype(np.int64)


def _pos_weighted_bce(y_train: torch.Tensor) -> nn.Module:
    # neg/pos per label, from the training fold only, as a practitioner would set it; a label
    # absent from the training fold gets weight neg/1 rather than a division by zero.
    positives = y_train.sum(dim=0)
    negatives = len(y_train) - positives
    return nn.BCEWithLogitsLoss(pos_weight=negatives / positives.clamp(min=1.0))


def make_multilabel_sparse() -> pd.DataFrame:
    """Scenario "30 sparse labels, predicts all zeros": rare labels, pos_weight, raw logits."""
    data = load_digits()
    names, truth = _sparse_labels(data.images, data.target)
    pixels = data.images.reshape(len(data.images), -1)
    logits = _out_of_fold_logits(
        pixels, truth, _fold_ids(data.target), _mlp(64), _pos_weighted_bce,
        epochs=200, lr=0.01, weight_decay=1e-3,
    )
    frame = pd.DataFrame({"id": np.arange(len(truth))})
    for k, name in enumerate(names):
        frame[f"logit_{name}"] = logits[:, k]
    for k, name in enumerate(names):
        frame[f"y_{name}"] = truth[:, k]
    path = _write(frame, "multilabel_sparse_30_logits.csv")
    prevalence = truth.mean(axis=0)
    aps = [average_precision_score(truth[:, k], logits[:, k]) for k in range(len(names))]
    aucs = [roc_auc_score(truth[:, k], logits[:, k]) for k in range(len(names))]
    quality = (
        f"prevalence {prevalence.min():.1%}-{prevalence.max():.1%} "
        f"(>= {truth.sum(axis=0).min()} positives per label), "
        f"{(truth.sum(axis=1) == 0).mean():.0%} of rows have no label, "
        f"ROC AUC {min(aucs):.3f}-{max(aucs):.3f} (macro {np.mean(aucs):.3f}), "
        f"AP {min(aps):.3f}-{max(aps):.3f} (macro {np.mean(aps):.3f})"
    )
    _summary(path, frame, quality)
    return frame


def main() -> None:
    _set_determinism()
    make_multiclass_wine()
    make_binary_breast_cancer()
    make_multilabel_digits()
    make_multilabel_sparse()


if __name__ == "__main__":
    main()
