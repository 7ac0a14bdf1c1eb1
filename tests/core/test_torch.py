"""thresholdlab.torch: collect equals a hand-written loop; ThresholdHead equals thresholdlab.apply.

Oracles: a manual eval loop over the same loader (collect), and ``thresholdlab.config.apply`` on
numpy float64 scores (ThresholdHead), on grids with ties (scores rounded to one decimal) and
thresholds set exactly at scores, eagerly, scripted and exported.
"""

from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, Dataset, TensorDataset  # noqa: E402

import thresholdlab.torch as tt  # noqa: E402
from thresholdlab.config import ThresholdConfig, apply  # noqa: E402
from thresholdlab.loading import load  # noqa: E402
from thresholdlab.predictions import sigmoid, softmax  # noqa: E402

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")


# ------------------------------------------------------------------------------ helpers
def _model(k: int, d: int = 4, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    # Dropout and BatchNorm behave differently in train mode: collect must switch to eval.
    return nn.Sequential(nn.Linear(d, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, k))


def _manual(model: nn.Module, loader, key=lambda b: (b[0], b[1])):
    model.eval()
    outs, ys = [], []
    with torch.no_grad():
        for batch in loader:
            x, y = key(batch)
            outs.append(model(x).double())
            ys.append(torch.as_tensor(y))
    return torch.cat(outs).numpy(), torch.cat(ys).numpy()


def _data(n=53, d=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), g


# ------------------------------------------------------------------------------ collect
def test_collect_tuple_batches_equal_manual_loop_and_restore_modes():
    x, g = _data()
    y = torch.randint(0, 3, (len(x),), generator=g)
    model = _model(3)
    model.train()
    model[1].eval()  # a submodule the user froze stays frozen
    loader = DataLoader(TensorDataset(x, y), batch_size=7)
    frame = tt.collect(model, loader, class_names=["a", "b", "c"], progress=False)
    assert model.training and model[3].training and not model[1].training
    scores, labels = _manual(model, loader)
    assert list(frame.columns) == ["logit_a", "logit_b", "logit_c", "label"]
    np.testing.assert_array_equal(frame[["logit_a", "logit_b", "logit_c"]].to_numpy(), scores)
    np.testing.assert_array_equal(frame["label"].to_numpy(), labels)
    info = frame.attrs["thresholdlab"]
    assert info["task"] == "multiclass" and info["classes"] == ["a", "b", "c"]


class _DictSet(Dataset):
    def __init__(self, x, y, input_key="features", target_key="targets"):
        self.x, self.y, self.keys = x, y, (input_key, target_key)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return {self.keys[0]: self.x[i], self.keys[1]: self.y[i], "id": i}


@pytest.mark.parametrize(
    "input_key, target_key, explicit",
    [("features", "targets", False), ("x", "label", False), ("image", "cls", True)],
)
def test_collect_dict_batches(input_key, target_key, explicit):
    x, g = _data()
    y = torch.randint(0, 4, (len(x),), generator=g)
    model = _model(4)
    loader = DataLoader(_DictSet(x, y, input_key, target_key), batch_size=8)
    keys = {"input_key": input_key, "target_key": target_key} if explicit else {}
    frame = tt.collect(model, loader, **keys)
    scores, labels = _manual(model, loader, key=lambda b: (b[input_key], b[target_key]))
    np.testing.assert_array_equal(frame.filter(like="logit_").to_numpy(), scores)
    np.testing.assert_array_equal(frame["label"].to_numpy(), labels)


def test_collect_multilabel_targets_and_sigmoid():
    x, g = _data()
    y = (torch.rand(len(x), 5, generator=g) < 0.3).float()
    model = _model(5)
    loader = DataLoader(TensorDataset(x, y), batch_size=9)
    frame = tt.collect(model, loader, activation="sigmoid")
    scores, truth = _manual(model, loader)
    names = [f"class_{j}" for j in range(5)]
    np.testing.assert_array_equal(frame[[f"p_{c}" for c in names]].to_numpy(), sigmoid(scores))
    np.testing.assert_array_equal(frame[[f"y_{c}" for c in names]].to_numpy(), truth)
    assert frame.attrs["thresholdlab"]["task"] == "multilabel"


@pytest.mark.parametrize("ext", ["csv", "parquet"])
def test_collect_one_based_labels_written_as_given_and_read_back_exactly(tmp_path, ext):
    x, g = _data(n=60)
    y = torch.randint(1, 4, (len(x),), generator=g)  # 1..3, all present
    model = _model(3)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    path = tmp_path / f"val.{ext}"
    frame = tt.collect(model, loader, class_names=["barolo", "grignolino", "barbera"], output=path)
    np.testing.assert_array_equal(frame["label"].to_numpy(), y.numpy())  # not renumbered
    assert frame.attrs["thresholdlab"]["notes"] == ["Labels look 1-based: 1 -> barolo, 2 -> grignolino, 3 -> barbera."]
    pset = load(path)
    scores, _ = _manual(model, loader)
    assert pset.task == "multiclass" and pset.score_kind == "logit"
    assert pset.classes == ("barolo", "grignolino", "barbera")
    np.testing.assert_array_equal(pset.scores, scores)  # float32 outputs round-trip bit for bit
    np.testing.assert_array_equal(pset.labels, y.numpy() - 1)
    assert any("1-based" in note for note in pset.notes)


def test_collect_default_names_follow_one_based_labels():
    x, g = _data()
    y = torch.randint(1, 4, (len(x),), generator=g)
    frame = tt.collect(_model(3), DataLoader(TensorDataset(x, y), batch_size=16))
    assert frame.attrs["thresholdlab"]["classes"] == ["class_1", "class_2", "class_3"]


def test_collect_zero_based_labels_loading_would_misread_are_written_as_names(tmp_path):
    x, g = _data()
    y = torch.randint(1, 3, (len(x),), generator=g)  # 0-based, class 0 absent: looks 1-based
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    frame = tt.collect(_model(3), loader, label_base=0, output=tmp_path / "v.csv")
    assert set(frame["label"]) == {"class_1", "class_2"}
    assert "written as class names" in frame.attrs["thresholdlab"]["notes"][0]
    np.testing.assert_array_equal(load(tmp_path / "v.csv").labels, y.numpy())


def test_collect_binary_and_three_item_batches(tmp_path):
    x, g = _data()
    y = (torch.rand(len(x), generator=g) < 0.4).float()
    w = torch.ones(len(x))
    model = _model(1)
    loader = DataLoader(TensorDataset(x, w, y), batch_size=10)
    frame = tt.collect(model, loader, class_names=["fraud"], target_key=2, output=tmp_path / "b.csv")
    scores, labels = _manual(model, loader, key=lambda b: (b[0], b[2]))
    np.testing.assert_array_equal(frame["logit_fraud"].to_numpy(), scores[:, 0])
    np.testing.assert_array_equal(frame["label"].to_numpy(), labels.astype(int))
    pset = load(tmp_path / "b.csv")
    assert pset.task == "binary" and pset.classes == ("fraud",)


def test_collect_activation_prefixes():
    x, g = _data()
    y = torch.randint(0, 3, (len(x),), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    probs = nn.Sequential(_model(3), nn.Softmax(dim=1))
    assert tt.collect(probs, loader).columns[0] == "p_class_0"  # in [0, 1]: read as probabilities
    assert tt.collect(_model(3), loader, activation="none").columns[0] == "score_class_0"
    soft = tt.collect(_model(3), loader, activation="softmax")
    scores, _ = _manual(_model(3), loader)
    np.testing.assert_array_equal(soft.filter(like="p_").to_numpy(), softmax(scores))


def test_collect_progress_bar_and_output_unwrapping(capsys):
    x, g = _data()
    y = torch.randint(0, 2, (len(x),), generator=g)

    class TupleOut(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = _model(2)

        def forward(self, x):
            return self.inner(x), x

    frame = tt.collect(TupleOut(), DataLoader(TensorDataset(x, y), batch_size=4), progress=True)
    assert len(frame) == len(x)
    assert "collect" in capsys.readouterr().err


def test_the_torch_extra_brings_the_progress_bar():
    """collect imports tqdm for its bar, so ``pip install -e ".[torch]"`` must install it."""
    import re
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    extra = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]["torch"]
    names = {re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower() for requirement in extra}
    assert {"torch", "tqdm"} <= names


@pytest.mark.parametrize(
    "loader_items, kwargs, message",
    [
        ([torch.zeros(2, 4)], {}, "collect needs targets"),
        ([(torch.zeros(2, 4), torch.tensor([0, 7]))], {}, "target 7 of example 2"),
        ([(torch.zeros(2, 4), torch.tensor([0.5, 1.0]))], {}, "whole numbers"),
        ([{"inp": torch.zeros(2, 4), "y": torch.tensor([0, 1])}], {}, "input_key="),
        ([(torch.zeros(2, 4), torch.tensor([0, 1]))], {"output": "v.xlsx"}, "extension"),
        ([(torch.zeros(2, 4), torch.tensor([0, 1]))], {"activation": "logits"}, "activation must"),
        ([(torch.zeros(2, 4), torch.tensor([0, 1, 1]))], {}, "each example needs its target"),
        ([(torch.zeros(2, 4), torch.zeros(2, 3) + 0.9)], {}, "must be 0 or 1"),
        ([], {}, "no batches"),
    ],
)
def test_collect_errors(loader_items, kwargs, message):
    with pytest.raises(ValueError, match=message):
        tt.collect(_model(3), loader_items, **kwargs)


def test_collect_binary_softmax_is_refused():
    with pytest.raises(ValueError, match="use 'sigmoid'"):
        tt.collect(_model(1), [(torch.zeros(2, 4), torch.tensor([0, 1]))], activation="softmax")


@CUDA
def test_collect_on_cuda_equals_cpu():
    x, g = _data()
    y = torch.randint(0, 3, (len(x),), generator=g)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    model = _model(3)
    cpu = tt.collect(model, loader)
    gpu = tt.collect(model.cuda(), loader)
    np.testing.assert_allclose(gpu.filter(like="logit_").to_numpy(), cpu.filter(like="logit_").to_numpy(), rtol=1e-5, atol=1e-6)
    assert next(model.parameters()).is_cuda


# --------------------------------------------------------------------------- ThresholdHead
RULES = [
    ("binary", "threshold", "none"),
    ("multilabel", "threshold", "none"),
    ("multilabel", "threshold", "at_least_one"),
    ("multiclass", "argmax", "abstain"),
    ("multiclass", "argmax", "fallback_argmax"),
    ("multiclass", "threshold_argmax", "abstain"),
    ("multiclass", "threshold_argmax", "fallback_argmax"),
]
CASES = [(*rule, kind) for rule in RULES for kind in ("logit", "probability")]


def _case(task, rule, no_prediction, kind, *, k=None, n=240, seed=0, dtype=np.float64):
    """(config, scores): ties (one decimal), and every threshold exactly at some row's score."""
    rng = np.random.default_rng(seed)
    k = k or {"binary": 1, "multilabel": 5, "multiclass": 4}[task]
    if kind == "logit":
        x = np.round(rng.normal(0, 2.5, (n, k)), 1)
    else:
        x = np.round(rng.random((n, k)), 1)
    x = x.astype(dtype).astype(np.float64)
    p = x if kind == "probability" else (softmax(x) if task == "multiclass" else sigmoid(x))
    t = p[rng.integers(0, n, k), np.arange(k)]
    t[: k // 3] = np.round(rng.random(k // 3), 1)  # and some at a round value shared by ties
    classes = [f"c{j}" for j in range(k)]
    config = ThresholdConfig(
        task=task, classes=classes, score_kind=kind, thresholds=dict(zip(classes, t.tolist())),
        decision_rule=rule, no_prediction=no_prediction,
    )
    return config, x


def _unsure(head, x: np.ndarray) -> np.ndarray:
    return head._unsure_rows(torch.from_numpy(x)).numpy()


def _check(head_out, reference, *, allowed=None):
    """Equal decisions; a softmax head without numpy may differ only on ``allowed`` rows."""
    got = np.asarray(head_out)
    assert got.shape == reference.shape and got.dtype == reference.dtype
    differ = (got != reference).reshape(len(reference), -1).any(axis=1)
    if allowed is None:
        assert not differ.any(), f"rows {np.flatnonzero(differ)[:10]} differ from apply"
    else:
        assert not (differ & ~allowed).any()


@pytest.mark.parametrize("task, rule, no_prediction, kind", CASES)
def test_head_eager_equals_apply_with_ties_and_thresholds_at_scores(task, rule, no_prediction, kind):
    for seed, dtype in ((0, np.float64), (1, np.float32)):
        config, x = _case(task, rule, no_prediction, kind, seed=seed, dtype=dtype)
        head = tt.ThresholdHead(config)
        reference = apply(config, x)
        _check(head(torch.from_numpy(x)).numpy(), reference)
        _check(head(torch.from_numpy(x.astype(dtype))).numpy(), reference)


def _exact_without_numpy(config) -> bool:
    # Probabilities and sigmoid logits are decided without exp; softmax needs numpy's last bit.
    return config.activation != "softmax"


@pytest.mark.parametrize("task, rule, no_prediction, kind", CASES)
def test_head_scripted_and_exported_equal_apply(task, rule, no_prediction, kind):
    config, x = _case(task, rule, no_prediction, kind, n=200, seed=2)
    head = tt.ThresholdHead(config)
    reference = apply(config, x)
    allowed = None if _exact_without_numpy(config) else _unsure(head, x)
    scores = torch.from_numpy(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TorchScript is deprecated in 2.13
        scripted = torch.jit.script(head)
    _check(scripted(scores).numpy(), reference, allowed=allowed)
    _check(tt.ThresholdHead(config, exact=False)(scores).numpy(), reference, allowed=allowed)
    batch = torch.export.Dim("batch")
    exported = torch.export.export(head, (scores,), dynamic_shapes={"scores": {0: batch}}).module()
    _check(exported(scores).numpy(), reference, allowed=allowed)
    _check(exported(scores[:7]).numpy(), reference[:7], allowed=None if allowed is None else allowed[:7])


def test_head_softmax_rows_at_a_threshold_are_exact_eagerly():
    """The case a pure-torch softmax cannot get right: thresholds at numpy's exact p of rows
    where torch's exp rounds differently. The eager head re-decides them with numpy."""
    rng = np.random.default_rng(3)
    x = rng.normal(0, 3, (4000, 6))
    classes = [f"c{j}" for j in range(6)]
    probe = tt.ThresholdHead(ThresholdConfig(
        task="multiclass", classes=classes, score_kind="logit", thresholds=dict.fromkeys(classes, 0.5)
    ))
    torch_p = probe._softmax(torch.from_numpy(x)).numpy()
    numpy_p = softmax(x)
    top = numpy_p.argmax(axis=1)
    rows = np.flatnonzero(torch_p[np.arange(len(x)), top] != numpy_p[np.arange(len(x)), top])
    assert rows.size  # exp differs in the last bit for a few percent of inputs
    r = rows[0]
    thresholds = dict.fromkeys(classes, 1.0)
    thresholds[classes[top[r]]] = float(numpy_p[r, top[r]])
    config = ThresholdConfig(task="multiclass", classes=classes, score_kind="logit", thresholds=thresholds)
    reference = apply(config, x)
    head = tt.ThresholdHead(config)
    _check(head(torch.from_numpy(x)).numpy(), reference)
    assert _unsure(head, x)[r]


def test_head_re_decides_only_ambiguous_rows():
    rng = np.random.default_rng(5)
    x = rng.normal(0, 3, (2000, 5))
    classes = [f"c{j}" for j in range(5)]

    def head(thresholds):
        return tt.ThresholdHead(ThresholdConfig(
            task="multiclass", classes=classes, score_kind="logit", decision_rule="threshold_argmax",
            thresholds=dict(zip(classes, thresholds)),
        ))

    t = [0.3] * 5
    assert not _unsure(head(t), x).any()  # continuous scores: no near-ties
    x[7, 2] = x[7, 4] = x[7].max() + 1  # equal logits tie exactly in numpy and torch alike
    assert not _unsure(head(t), x)[7]
    t[1] = float(head(t)._softmax(torch.from_numpy(x))[9, 1])  # exactly at a probability
    assert np.flatnonzero(_unsure(head(t), x)).tolist() == [9]


def test_head_large_k_uses_numpys_summation_order():
    rng = np.random.default_rng(4)
    for k in (2, 3, 7, 8, 9, 16, 31, 127, 128, 129, 300, 1031):
        e = rng.random((20, k)) * np.exp(rng.normal(0, 3, (20, k)))
        head = tt.ThresholdHead(ThresholdConfig(
            task="multiclass", classes=[f"c{j}" for j in range(k)], score_kind="logit",
            thresholds={f"c{j}": 0.5 for j in range(k)},
        ))
        np.testing.assert_array_equal(
            head._numpy_sum(torch.from_numpy(e)).numpy(), e.sum(axis=1, keepdims=True)
        )


def test_head_large_k_matches_apply():
    config, x = _case("multiclass", "threshold_argmax", "abstain", "logit", k=300, n=300, seed=5)
    _check(tt.ThresholdHead(config)(torch.from_numpy(x)).numpy(), apply(config, x))


def test_sigmoid_boundaries_are_exact_on_every_nearby_float():
    """x >= boundary, flipped at the listed exceptions, equals numpy's sigmoid(x) >= t for
    every float64 within 3000 steps of the boundary, non-monotone dips included."""
    rng = np.random.default_rng(6)
    logits = np.concatenate([rng.normal(0, 3, 60), [-37.0, -1.5922500991452198, 0.0, 30.0, 40.0]])
    t = np.concatenate([sigmoid(logits), [0.0, 1.0, 0.5, 1e-300]])
    boundaries, exceptions = tt._sigmoid_boundaries(t)
    for k, tk in enumerate(t):
        b = boundaries[k]
        if not math.isfinite(b):
            assert tk == 0.0
            continue
        center = np.array(b).view(np.int64)
        key = int(center) if b >= 0 else -(int(center) & 0x7FFF_FFFF_FFFF_FFFF)
        xs = tt._from_key(np.arange(key - 3000, key + 3001, dtype=np.int64))
        expected = sigmoid(xs) >= tk
        got = (xs >= b) ^ np.isin(xs, exceptions[k][~np.isnan(exceptions[k])])
        np.testing.assert_array_equal(got, expected)


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CASES),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**32 - 1),
    t_value=st.sampled_from([0.0, 0.1, 0.5, 1.0, None]),
)
def test_head_equals_apply_property(case, n, seed, t_value):
    task, rule, no_prediction, kind = case
    config, x = _case(task, rule, no_prediction, kind, n=n, seed=seed)
    if t_value is not None:
        config = ThresholdConfig(
            task=task, classes=config.classes, score_kind=kind, decision_rule=rule,
            no_prediction=no_prediction, thresholds=dict.fromkeys(config.classes, t_value),
        )
    _check(tt.ThresholdHead(config)(torch.from_numpy(x)).numpy(), apply(config, x))


def test_head_binary_shapes_and_path_config(tmp_path):
    config, x = _case("binary", "threshold", "none", "logit")
    config.save(tmp_path / "cfg.json")
    head = tt.ThresholdHead(tmp_path / "cfg.json")
    assert head(torch.from_numpy(x[:, 0])).shape == (len(x),)
    out = head(torch.from_numpy(x))
    assert out.shape == (len(x), 1) and out.dtype == torch.bool
    _check(out.numpy(), apply(config, x))


def test_head_rejects_wrong_shapes():
    config, _ = _case("multiclass", "argmax", "abstain", "logit")
    head = tt.ThresholdHead(config)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        head(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="positive class"):
        tt.ThresholdHead(_case("binary", "threshold", "none", "logit")[0])(torch.zeros(3, 2))


def test_head_keeps_float64_thresholds_in_a_half_model():
    config, x = _case("multilabel", "threshold", "none", "logit")
    head = tt.ThresholdHead(config)
    model = nn.Sequential(nn.Identity(), head).half()
    assert head.thresholds.dtype == torch.float64
    assert head.logit_boundaries.dtype == torch.float64
    _check(model(torch.from_numpy(x).half()).numpy(), apply(config, torch.from_numpy(x).half().double().numpy()))


def test_head_serialised_scripted_and_exported():
    config, x = _case("multiclass", "threshold_argmax", "fallback_argmax", "probability")
    head = tt.ThresholdHead(config)
    scores = torch.from_numpy(x)
    reference = apply(config, x)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(head), buffer)
    buffer.seek(0)
    _check(torch.jit.load(buffer)(scores).numpy(), reference)
    buffer = io.BytesIO()
    torch.export.save(torch.export.export(head, (scores,)), buffer)
    buffer.seek(0)
    _check(torch.export.load(buffer).module()(scores).numpy(), reference)


@CUDA
@pytest.mark.parametrize("task, rule, no_prediction, kind", CASES)
def test_head_on_cuda_equals_apply(task, rule, no_prediction, kind):
    config, x = _case(task, rule, no_prediction, kind, seed=7)
    head = tt.ThresholdHead(config).cuda()
    reference = apply(config, x)
    out = head(torch.from_numpy(x).cuda())
    assert out.is_cuda
    _check(out.cpu().numpy(), reference)
    allowed = None if _exact_without_numpy(config) else _unsure(head.cpu(), x)
    head.cuda()
    scores = torch.from_numpy(x).cuda()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _check(torch.jit.script(head)(scores).cpu().numpy(), reference, allowed=allowed)
    exported = torch.export.export(head, (scores,)).module()
    _check(exported(scores).cpu().numpy(), reference, allowed=allowed)


def test_import_thresholdlab_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, thresholdlab; print('torch' in sys.modules, 'streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
    code = "import torch, thresholdlab.torch as t; print(t.torch is torch, hasattr(t.torch, 'nn'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
