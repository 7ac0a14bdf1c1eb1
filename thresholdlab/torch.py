"""PyTorch in and out: collect a model's validation scores, serve chosen thresholds as a module.

Two halves of one loop:

* :func:`collect` runs a model over a ``DataLoader`` and returns its scores and the true labels as
  a table in the format ThresholdLab reads (``logit_<class>`` or ``p_<class>`` score columns, a
  ``label`` column or ``y_<class>`` truth columns), optionally written to CSV or Parquet for
  ``thresholdlab optimize`` or the dashboard (it lives in :mod:`thresholdlab.torch_collect`).
* :class:`ThresholdHead` is an ``nn.Module`` that applies a threshold config to the
  model's raw outputs, so ``nn.Sequential(model, ThresholdHead(config))`` serves decisions. It
  runs eagerly, under ``torch.jit.script`` and ``torch.export``, on CPU and CUDA. With a config's
  per-slice thresholds (``groups``), ``head(scores, slices)`` decides each row with its slice's.

Only this module and :mod:`thresholdlab.torch_collect` import torch; ``import thresholdlab`` does
not. The core never imports them: they depend on it. :func:`apply_tensor` is how
:func:`thresholdlab.apply` decides a tensor; the package root registers it
(:mod:`thresholdlab.array_types`), and it loads only once a tensor arrives.

How exactly ThresholdHead matches :func:`thresholdlab.config.apply`
-------------------------------------------------------------------
``apply`` on numpy arrays is the reference: float64, ``probability >= threshold``, ties to the
lowest class index (``apply`` on tensors runs the eager head itself).
The head computes in float64 too and mirrors numpy step by step (the same max shift, the same
pairwise summation order as ``numpy.sum``, the same sigmoid branches), so:

* probability configs (``activation: none``): identical decisions, always.
* sigmoid configs (binary, multi-label logits): identical threshold decisions, always, on any
  device: each probability threshold is turned, once, into the exact set of float64 logits whose
  numpy sigmoid reaches it (a boundary plus the few logits where float64 sigmoid is not
  monotone), so no ``exp`` is evaluated to decide.
* softmax configs (multi-class logits): ``exp`` differs between numpy and torch (and between
  torch's CPU and CUDA kernels) in the last bit for a few percent of inputs. A row's decision can
  only change where a probability lies within about 1e-15 (relative) of its threshold or of
  another class's probability without being tied with it. The eager head (``exact=True``, the
  default) recomputes exactly those rows with numpy, so it always equals ``apply``; a scripted or
  exported head cannot call numpy and may differ on such rows. Thresholds chosen by ``thresholdlab
  optimize`` are midpoints between distinct scores, never within 1e-15 of one.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import warnings
from typing import List, Optional

import numpy as np
import torch
from torch import nn

from thresholdlab.config import ThresholdConfig, _check_shape, _check_values, apply
from thresholdlab.groups import group_codes, group_values
from thresholdlab.predictions import sigmoid
from thresholdlab.torch_collect import INPUT_KEYS, TARGET_KEYS, collect

__all__ = [
    "GroupThresholdHead", "INPUT_KEYS", "TARGET_KEYS", "ThresholdHead", "apply_tensor", "collect",
]


# --------------------------------------------------------------------------------------------
# ThresholdHead
# --------------------------------------------------------------------------------------------


def apply_tensor(config: ThresholdConfig, scores: torch.Tensor, groups=None) -> torch.Tensor:
    """:func:`thresholdlab.apply` for a tensor: the numpy path's checks, then the config's
    :class:`ThresholdHead` on the tensor's device (MPS: the CPU), decisions on that device.
    With ``groups`` (each row's slice value) the config's per-slice thresholds decide."""
    device = scores.device
    # MPS has no float64; decide there on the CPU and move the decisions back.
    work = torch.device("cpu") if device.type == "mps" else device
    _check_shape(config, tuple(scores.shape))
    x = scores.detach().to(device=work, dtype=torch.float64)
    _check_values(
        config, x, bool(torch.isfinite(x).all()), lambda: x.min().item(), lambda: x.max().item()
    )
    if groups is not None:
        codes = torch.from_numpy(group_codes(config, groups)).to(work)
        # Every head reads its scores as float64 first, so ``x`` decides as the scores would.
        return _head(_HeadKey(config, work))(x, codes).to(device)
    return _head(_HeadKey(config, work))(x).to(device)


class _HeadKey:
    """What a ThresholdHead's decisions depend on, hashable (the config's dicts are not)."""

    def __init__(self, config: ThresholdConfig, device):
        self.config = config
        self.device = device
        self.fields = (
            type(config), config.task, config.classes, config.score_kind, config.activation,
            config.decision_rule, config.no_prediction,
            tuple(config.thresholds[c] for c in config.classes), device,
            None if config.calibration is None else json.dumps(config.calibration.to_dict()),
            None if config.cost_matrix is None else json.dumps(config.cost_matrix.to_dict()),
            None if not config.groups else json.dumps(config.groups, sort_keys=True, default=repr),
        )

    def __hash__(self) -> int:
        return hash(self.fields)

    def __eq__(self, other) -> bool:
        return isinstance(other, _HeadKey) and self.fields == other.fields


@functools.lru_cache(maxsize=16)
def _head(key: _HeadKey) -> ThresholdHead:
    """The eager, exact ThresholdHead for ``key.config`` on ``key.device``, built once: building
    one bisects every sigmoid threshold for its logit boundary (milliseconds a class)."""
    # A snapshot: the head keeps its config (for the eager re-decision), and a later edit to
    # the caller's config must not reach another config that hits this cache entry.
    return ThresholdHead(copy.deepcopy(key.config)).to(key.device)


# numpy's pairwise summation (numpy/_core/src/umath/loops_utils.h.src): blocks of at most
# PW_BLOCKSIZE elements are summed with 8 accumulators; longer runs are split in two.
_PW_BLOCKSIZE = 128

# Rows the eager head re-decides with numpy: a probability this close (relative) to its threshold
# or to the row's winner could land on the other side with a last-bit different exp (torch's
# float64 exp differs from numpy's by up to 1 ulp). The slack covers K up to ~10**6 classes.
_REL_SLACK = 1e-9
_ABS_SLACK = 1e-300  # exp underflowing to subnormals loses relative precision

# How many float64 steps either side of a sigmoid boundary are checked for non-monotone spots.
_WINDOW = 512
_MAX_WINDOW = 2**16


class ThresholdHead(nn.Module):
    """Apply a threshold config to a model's raw outputs: decisions as a tensor.

    ``nn.Sequential(model, ThresholdHead(config))`` turns logits into decisions that equal
    ``thresholdlab.apply(config, logits)``.

    Parameters
    ----------
    config : ThresholdConfig or path of a config JSON file
    exact : bool, default True
        Eager mode only: re-decide with numpy the rare rows whose softmax decision hangs on the
        last bit of ``exp`` (see the module docstring), so decisions always equal ``apply``. Costs
        one device-to-host sync per call. Scripted and exported heads never do this.

    Input
    -----
    scores : Tensor, any float dtype, on any device
        The model's outputs in the config's ``score_kind``, columns in ``config.classes`` order:
        (n, K) for multi-class and multi-label, (n,) or (n, 1) for binary. Finite values only:
        the head does not check (a data-dependent check cannot be exported), and the decisions
        of a row holding NaN or infinity are unspecified; ``thresholdlab.apply`` validates.

    slices : Tensor long (n,), optional
        Each row's slice code, for a config with per-slice thresholds (its ``groups``): the
        position of the row's slice value in ``slice_values`` (:meth:`codes` maps values to
        codes), -1 or any code out of range for a value the config does not list; such rows,
        and every row when ``slices`` is not given, get the top-level thresholds. Eagerly the
        slice values themselves (a list or array, compared as text) are accepted too.

    Output
    ------
    Tensor on the input's device
        Multi-class: ``torch.long`` (n,), the class index, or -1 for no prediction.
        Binary and multi-label: ``torch.bool`` multi-hot, (n, K) (binary: the input's shape).

    Attributes
    ----------
    classes : list of str
        Class names, in output-column order.
    thresholds : Tensor float64 (K,), buffer
        The config's probability thresholds.
    logit_boundaries : Tensor float64 (K,), buffer
        Sigmoid configs: the smallest float64 logit whose numpy sigmoid reaches the threshold
        (-inf for a threshold of 0). Unused (zeros) otherwise.
    logit_exceptions : Tensor float64 (K, M), buffer
        Sigmoid configs: logits near the boundary whose decision is the opposite of
        ``logit >= boundary`` because float64 sigmoid is not monotone there; NaN padding.
    slice_values : list of str
        The slice values the config's ``groups`` lists (empty without groups); a value's code
        is its position here.
    slice_thresholds : Tensor float64 (G + 1, K), buffer
        Row ``g``: the thresholds of ``slice_values[g]``; last row: the top-level thresholds.
        ``slice_logit_boundaries`` (G + 1, K) and ``slice_logit_exceptions`` (G + 1, K, M) are
        their logit forms (sigmoid configs). Saved in the state_dict only with groups.

    Notes
    -----
    Calibration: a config's ``calibration`` section runs in :meth:`calibrate` (the submodule
    ``calibrator``, a :class:`~thresholdlab.torch_calibration.CalibrationLayer`) on the raw scores,
    in eager, scripted and exported heads alike; its output goes through the activation the
    calibration implies (``activation`` then names it). The eager re-decision hands the raw rows
    to ``apply``, which calibrates them in numpy.
    """

    def __init__(self, config: ThresholdConfig | str | os.PathLike, *, exact: bool = True):
        super().__init__()
        if not isinstance(config, ThresholdConfig):
            config = ThresholdConfig.load(config)
        from thresholdlab.torch_calibration import CalibrationLayer

        calibration = getattr(config, "calibration", None)
        self.calibrator = CalibrationLayer(calibration, len(config.classes))
        self.task = config.task
        # With a calibration, what turns its output into probabilities (softmax, sigmoid, none).
        self.activation = (
            config.activation if calibration is None else calibration.output_activation
        )
        self.rule = config.decision_rule
        self.no_prediction = config.no_prediction
        self.classes: List[str] = list(config.classes)
        self.n_classes = len(config.classes)
        self.exact = bool(exact)
        # Decisions that read probabilities computed with exp: softmax, and the top label that
        # at_least_one adds from sigmoid probabilities. Only these can need numpy's last bit.
        self._uses_exp = self.activation == "softmax" or self.calibrator.uses_exp or (
            self.activation == "sigmoid" and self.no_prediction == "at_least_one"
        )
        self._config = config  # eager re-decision only; never touched by scripted code
        t = np.array([config.thresholds[c] for c in config.classes], dtype=np.float64)
        self.register_buffer("thresholds", torch.from_numpy(t.copy()))
        if self.activation == "sigmoid":
            boundaries, exceptions = _sigmoid_boundaries(t)
        else:
            boundaries, exceptions = np.zeros_like(t), np.full((len(t), 1), np.nan)
        self.register_buffer("logit_boundaries", torch.from_numpy(boundaries))
        self.register_buffer("logit_exceptions", torch.from_numpy(exceptions))
        self._sum_plan: List[List[int]] = _pairwise_plan(self.n_classes)
        # The cost-matrix rule (multi-class): costs[i, j] of predicting j when the truth is i.
        matrix = getattr(config, "cost_matrix", None)
        k = self.n_classes
        costs = np.zeros((k, k)) if matrix is None else np.asarray(matrix.matrix, dtype=np.float64)
        abstain = math.inf if matrix is None or matrix.abstain_cost is None else matrix.abstain_cost
        self.register_buffer("costs", torch.from_numpy(costs.copy()))
        self.register_buffer("abstain_cost", torch.tensor([abstain], dtype=torch.float64))
        self._init_slices(config, t)

    def _init_slices(self, config: ThresholdConfig, top: np.ndarray) -> None:
        """Per-slice tables from the config's ``groups``: row ``g`` holds the thresholds of the
        ``g``-th listed slice value, the last row the top-level ones (rows of unlisted values)."""
        # Listed slice values in the config's order: a row's slice code is its position here.
        self.slice_values: List[str] = list(group_values(config))
        self.n_slices = len(self.slice_values)
        groups = config.groups if self.n_slices else None
        table = np.array(
            [[groups["thresholds"][v][c] for c in config.classes] for v in self.slice_values]
            + [top.tolist()],
            dtype=np.float64,
        ).reshape(self.n_slices + 1, self.n_classes)
        if self.activation == "sigmoid" and self.n_slices:
            found = [_sigmoid_boundaries(row) for row in table]
            m = max(e.shape[1] for _, e in found)
            boundaries = np.stack([b for b, _ in found])
            exceptions = np.full((len(found), self.n_classes, m), np.nan)
            for g, (_, e) in enumerate(found):
                exceptions[g, :, : e.shape[1]] = e
        else:  # the top level's, already found (or unused: zeros, as above)
            boundaries = self.logit_boundaries.numpy().reshape(1, -1).copy()
            exceptions = self.logit_exceptions.numpy()[None].copy()
        # Persistent only with groups: a head without them keeps the state_dict it always had.
        persistent = self.n_slices > 0
        self.register_buffer("slice_thresholds", torch.from_numpy(table), persistent=persistent)
        self.register_buffer(
            "slice_logit_boundaries", torch.from_numpy(boundaries), persistent=persistent)
        self.register_buffer(
            "slice_logit_exceptions", torch.from_numpy(exceptions), persistent=persistent)

    @torch.jit.unused
    def codes(self, values) -> torch.Tensor:
        """long (n,): each slice value's code, its position in ``slice_values`` (values are
        compared as text, like ``thresholdlab.apply(groups=)``); -1 for a value not listed."""
        return torch.from_numpy(group_codes(self._config, np.asarray(values, dtype=object)))

    def _apply(self, fn, recurse=True):
        # Thresholds stay float64 whatever the model around the head is cast to: a model-wide
        # .half() or .to(torch.float32) would round them and change decisions. Devices move.
        kept = dict(self.named_buffers(recurse=False))
        super()._apply(fn, recurse)
        for name, old in kept.items():
            new = getattr(self, name)
            if new.dtype != torch.float64:
                setattr(self, name, old.to(device=new.device))
        return self

    def extra_repr(self) -> str:
        shown = ", ".join(self.classes[:5]) + (", ..." if self.n_classes > 5 else "")
        return (
            f"task={self.task}, classes=[{shown}], activation={self.activation}, "
            f"rule={self.rule}, no_prediction={self.no_prediction}, "
            f"calibration={self.calibrator.method}"
            + (f", slices={self.n_slices}" if self.n_slices else "")
        )

    # ---------------------------------------------------------------------------- forward
    def forward(self, scores: torch.Tensor, slices: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decisions for ``scores``; ``slices`` (optional, long (n,)): each row's slice code.

        A config with per-slice thresholds (``groups``) decides a row with code ``g`` with the
        thresholds of ``slice_values[g]``, and a row with any other code (-1: a value the config
        does not list) with the top-level thresholds, as ``thresholdlab.apply(config, scores,
        groups=values)``. Eagerly, ``slices`` may also be the slice values themselves (any
        non-tensor sequence, compared as text); scripted and exported heads take codes
        (:meth:`codes`). Without ``slices``, or for a config without groups, every row gets the
        top-level thresholds.
        """
        raw = self._as_matrix(scores)
        x = self.calibrate(raw)
        if self.activation == "none":
            # Probabilities a rounding error outside [0, 1] are clipped, as loading and
            # ``apply`` clip them; in-range scores are unchanged.
            x = x.clamp(0.0, 1.0)
        if slices is not None and self.n_slices > 0:
            if not torch.jit.is_scripting():
                if not _tracing():  # an exported head takes codes as they come
                    slices = self._as_codes(slices, raw.shape[0], raw.device)
            # groups exist only without a rule that adds labels (no_prediction "none") and
            # outside multi-class, so no row needs the eager re-decision either.
            out = self._multihot_per_row(x, slices)
            if self.task == "binary":
                out = out.reshape(scores.shape)
            return out
        if self.task == "multiclass":
            # Computed once here: the eager exactness check below needs the same probabilities.
            p = self._softmax(x) if self.activation == "softmax" else x
            out = self._multiclass(x, p)
        else:
            p = x
            out = self._multihot(x)
        if not torch.jit.is_scripting():
            if self.exact and self._uses_exp and not _tracing():
                out = self._redecide_unsure(raw, x, p, out)
        if self.task == "binary":
            out = out.reshape(scores.shape)
        return out

    def calibrate(self, x: torch.Tensor) -> torch.Tensor:
        """The config's calibration of raw scores (identity without one): calibrated logits, or
        probabilities divided by their row sum in numpy's order where the calibration says so."""
        x = self.calibrator(x)
        if self.calibrator.renormalise:
            s = self._numpy_sum(x)
            x = torch.where(s != 0, x / s, torch.full_like(x, 1.0 / self.n_classes))
        return x

    def _as_matrix(self, scores: torch.Tensor) -> torch.Tensor:
        """float64 (n, K) view of the scores; ValueError when the shape does not fit."""
        if self.task == "binary":
            if scores.dim() == 1:
                return scores.to(torch.float64).unsqueeze(1)
            if scores.dim() != 2 or scores.shape[1] != 1:
                raise ValueError(
                    "scores for a binary ThresholdHead must have shape (n,) or (n, 1): pass the "
                    "positive class's column only"
                )
        elif scores.dim() != 2 or scores.shape[1] != self.n_classes:
            raise ValueError(
                "scores must have shape (n, " + str(self.n_classes) + "), one column per class "
                "in the config's order"
            )
        return scores.to(torch.float64)

    def _multiclass(self, x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        """Mirror of ``decisions.decide`` for multi-class rules; long (n,). ``p``: probabilities."""
        if self.rule == "cost_matrix":
            return self._least_cost(p)
        passing = p >= self.thresholds.unsqueeze(0)
        top = _first_max(x, p)
        none = torch.full_like(top, -1)
        if self.rule == "argmax":
            chosen = torch.where(passing.gather(1, top.unsqueeze(1)).squeeze(1), top, none)
        else:  # threshold_argmax: the most probable class among those passing their threshold
            low = torch.full_like(p, -math.inf)
            best = _first_max(torch.where(passing, x, low), torch.where(passing, p, low))
            chosen = torch.where(passing.any(dim=1), best, none)
        if self.no_prediction == "fallback_argmax":
            chosen = torch.where(chosen == -1, top, chosen)
        return chosen

    def _expected_costs(self, p: torch.Tensor) -> torch.Tensor:
        """``CostMatrix.expected_costs``: summed over the true class in order, (n, K)."""
        out = p[:, 0:1] * self.costs[0].unsqueeze(0)
        for i in range(1, self.n_classes):
            out = out + p[:, i : i + 1] * self.costs[i].unsqueeze(0)
        return out

    def _least_cost(self, p: torch.Tensor) -> torch.Tensor:
        """``CostMatrix.decide``: least expected cost (first on ties), -1 where abstaining
        costs strictly less."""
        expected = self._expected_costs(p)
        least, best = torch.min(expected, dim=1)
        # torch.min's index on ties is not promised to be the first; argmax of "is the least" is.
        best = torch.argmax((expected == least.unsqueeze(1)).to(torch.int32), dim=1)
        return torch.where(self.abstain_cost < least, torch.full_like(best, -1), best)

    def _multihot(self, x: torch.Tensor) -> torch.Tensor:
        """Mirror of ``decisions.decide`` for binary and multi-label; bool (n, K)."""
        if self.activation == "sigmoid":
            passing = x >= self.logit_boundaries.unsqueeze(0)
            flipped = (x.unsqueeze(2) == self.logit_exceptions.unsqueeze(0)).any(dim=2)
            passing = passing ^ flipped
        else:
            passing = x >= self.thresholds.unsqueeze(0)
        if self.no_prediction == "at_least_one":
            p = _sigmoid(x) if self.activation == "sigmoid" else x
            top = _first_max(x, p)
            classes = torch.arange(self.n_classes, device=x.device).unsqueeze(0)
            empty = ~passing.any(dim=1, keepdim=True)
            passing = passing | (empty & (classes == top.unsqueeze(1)))
        return passing

    def _multihot_per_row(self, x: torch.Tensor, slices: torch.Tensor) -> torch.Tensor:
        """:meth:`_multihot` (no_prediction "none") with each row's slice's thresholds; bool (n, K)."""
        listed = (slices >= 0) & (slices < self.n_slices)
        row = torch.where(listed, slices, torch.full_like(slices, self.n_slices)).to(torch.long)
        if self.activation == "sigmoid":
            boundaries = self.slice_logit_boundaries.index_select(0, row)
            exceptions = self.slice_logit_exceptions.index_select(0, row)
            flipped = (x.unsqueeze(2) == exceptions).any(dim=2)
            return (x >= boundaries) ^ flipped
        return x >= self.slice_thresholds.index_select(0, row)

    @torch.jit.unused
    def _as_codes(self, slices, n: int, device: torch.device) -> torch.Tensor:
        """Eager only: slice codes from codes (a tensor) or from slice values (anything else)."""
        codes = slices if isinstance(slices, torch.Tensor) else self.codes(slices)
        if codes.dim() != 1 or codes.shape[0] != n:
            raise ValueError(
                f"slices must give one slice per row: {tuple(codes.shape)} for {n} rows of scores"
            )
        if codes.dtype.is_floating_point or codes.dtype == torch.bool:
            raise ValueError(
                "slices must be integer slice codes (ThresholdHead.codes(values)) or the slice "
                f"values themselves, got a {codes.dtype} tensor"
            )
        return codes.to(device)

    def _softmax(self, x: torch.Tensor) -> torch.Tensor:
        """``predictions.softmax`` step by step: max shift, exp, numpy's summation order."""
        z = x - x.max(dim=1, keepdim=True).values
        e = torch.exp(z)
        return e / self._numpy_sum(e)

    def _numpy_sum(self, e: torch.Tensor) -> torch.Tensor:
        """Row sums (n, 1) added in exactly the order ``numpy.sum(axis=1)`` adds them."""
        stack: List[torch.Tensor] = []
        for step in self._sum_plan:
            if step[0] == 0:
                stack.append(_block_sum(e, step[1], step[2]))
            else:
                right = stack.pop()
                left = stack.pop()
                stack.append(left + right)
        return stack[0]

    # ---------------------------------------------------------------- eager exactness
    @torch.jit.unused
    def _redecide_unsure(
        self, raw: torch.Tensor, x: torch.Tensor, p: torch.Tensor, out: torch.Tensor
    ) -> torch.Tensor:
        """Re-decide with ``thresholdlab.apply`` (numpy) the rows a last-bit exp could flip.

        ``raw``: the scores as given; ``x``: after :meth:`calibrate`; ``p``: probabilities."""
        unsure = self._unsure_rows(x, p if self.task == "multiclass" else None)
        if not bool(unsure.any()):
            return out
        rows = torch.nonzero(unsure).squeeze(1)
        exact = apply(self._config, raw.index_select(0, rows).cpu().numpy())
        out = out.clone()
        out[rows] = torch.from_numpy(np.asarray(exact)).to(out.device).reshape(-1, *out.shape[1:])
        return out

    @torch.jit.unused
    def _unsure_rows(self, x: torch.Tensor, p: Optional[torch.Tensor] = None) -> torch.Tensor:
        """bool (n,): rows whose decision could change if a probability moved by a few ulps.

        ``p``: the multi-class probabilities of ``x`` when already computed."""
        t = self.thresholds.unsqueeze(0)
        if self.rule == "cost_matrix":
            if p is None:
                p = self._softmax(x)
            # Rows whose two least costs (abstaining included) lie within a few ulps.
            expected = torch.cat([self._expected_costs(p), self.abstain_cost.expand(p.shape[0], 1)], 1)
            low = torch.topk(expected, 2, dim=1, largest=False).values
            scale = _REL_SLACK * low[:, 1:2].abs() + _ABS_SLACK
            return (low[:, 1:2] - low[:, 0:1] <= 2 * scale).squeeze(1)
        if self.activation == "sigmoid":
            if self.no_prediction != "at_least_one":
                return torch.zeros(x.shape[0], dtype=torch.bool, device=x.device)
            p = _sigmoid(x)
            # Threshold decisions are exact (logit boundaries); only the top label of rows with
            # nothing passing uses probabilities.
            nothing = ~self._multihot_plain(x).any(dim=1)
            return nothing & _near_winner(x, p)
        if p is None:
            p = self._softmax(x)
        slack = _REL_SLACK * p + _ABS_SLACK
        near_t = (p - t).abs() <= torch.maximum(slack, _REL_SLACK * t + _ABS_SLACK)
        unsure = near_t.any(dim=1) | _near_winner(x, p)
        if self.rule == "threshold_argmax":
            passing = p >= t
            low = torch.full_like(p, -math.inf)
            unsure |= _near_winner(torch.where(passing, x, low), torch.where(passing, p, low)) & (
                passing.any(dim=1)
            )
        return unsure

    @torch.jit.unused
    def _multihot_plain(self, x: torch.Tensor) -> torch.Tensor:
        passing = x >= self.logit_boundaries.unsqueeze(0)
        return passing ^ (x.unsqueeze(2) == self.logit_exceptions.unsqueeze(0)).any(dim=2)


def _tracing() -> bool:
    """True while torch.export / torch.compile / torch.jit.trace records the forward pass."""
    compiler = getattr(torch, "compiler", None)
    if compiler is not None:
        if compiler.is_compiling():
            return True
        is_exporting = getattr(compiler, "is_exporting", None)
        if is_exporting is not None and is_exporting():
            return True
    return torch.jit.is_tracing()


def _first_max(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """long (n,): the lowest class index with the row's largest probability (``np.argmax``).

    Equal raw scores always tie, even when torch's exp returns different last bits for equal
    inputs (its vectorised body and scalar tail differ); otherwise the largest raw score wins,
    together with any lower class whose probability rounds to the same value.
    """
    i = torch.argmax(x, dim=1, keepdim=True)
    x_top = x.gather(1, i)
    p_top = p.gather(1, i)
    tied = (x == x_top) | (p >= p_top)
    return torch.argmax(tied.to(torch.int32), dim=1)


def _near_winner(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """bool (n,): some class other than an exact tie lies within a few ulps of the top p."""
    i = torch.argmax(p, dim=1, keepdim=True)
    p_top = p.gather(1, i)
    x_top = x.gather(1, i)
    near = (p_top - p <= 2 * (_REL_SLACK * p_top.abs() + _ABS_SLACK)) & (
        (x != x_top) | (p != p_top)
    )
    return near.any(dim=1)


# ``predictions.sigmoid`` in torch ops, shared with the calibration layers (one definition).
from thresholdlab.torch_calibration import _sigmoid  # noqa: E402


def _block_sum(e: torch.Tensor, start: int, n: int) -> torch.Tensor:
    """numpy's pairwise_sum of columns ``start:start+n`` (n <= 128) of each row; (rows, 1)."""
    if n < 8:
        s = e[:, start : start + 1]
        for i in range(start + 1, start + n):
            s = s + e[:, i : i + 1]
        return s
    r = e[:, start : start + 8]
    i = 8
    while i < n - n % 8:
        r = r + e[:, start + i : start + i + 8]
        i += 8
    s = ((r[:, 0:1] + r[:, 1:2]) + (r[:, 2:3] + r[:, 3:4])) + (
        (r[:, 4:5] + r[:, 5:6]) + (r[:, 6:7] + r[:, 7:8])
    )
    while i < n:
        s = s + e[:, start + i : start + i + 1]
        i += 1
    return s


def _pairwise_plan(n: int, start: int = 0) -> List[List[int]]:
    """Post-order steps of numpy's pairwise sum over n columns: [0, start, n] sums a block,
    [1, 0, 0] adds the two latest results (scripted code cannot recurse, so the tree is flat)."""
    if n <= _PW_BLOCKSIZE:
        return [[0, start, n]]
    half = n // 2
    half -= half % 8
    return _pairwise_plan(half, start) + _pairwise_plan(n - half, start + half) + [[1, 0, 0]]


# ------------------------------------------------------------------- sigmoid boundaries
def _sigmoid_boundaries(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact logit form of ``sigmoid(x) >= t`` for each class, with numpy's own sigmoid.

    Returns ``boundaries`` (K,) and ``exceptions`` (K, M, NaN-padded) such that, for every
    float64 x checked, ``sigmoid(x) >= t[k]`` equals ``(x >= boundaries[k]) != (x in
    exceptions[k])``. float64 sigmoid is monotone except for single-ulp dips (``ex / (1 + ex)``
    rounds its numerator and denominator separately), so a bisection finds the crossing and a
    window around it is scanned for dips; a window is widened until its ends are clean.
    """
    boundaries = np.empty_like(t)
    exceptions: list[np.ndarray] = []
    for k, tk in enumerate(t.tolist()):
        if tk <= 0.0:  # every probability is >= 0
            boundaries[k] = -np.inf
            exceptions.append(np.empty(0))
            continue
        key = _bisect(tk)
        window = _WINDOW
        while True:
            keys = np.arange(key - window, key + window + 1, dtype=np.int64)
            xs = _from_key(keys)
            passes = sigmoid(xs) >= tk
            clean = not passes[:16].any() and passes[-16:].all()
            if clean or window >= _MAX_WINDOW:
                break
            window *= 8
        if not clean:
            warnings.warn(
                f"ThresholdHead: sigmoid is not monotone within {window} float64 steps of the "
                f"logit threshold for class {k}; a logit that far from it could be decided "
                "differently from thresholdlab.apply.",
                RuntimeWarning,
                stacklevel=3,
            )
        fails = np.flatnonzero(~passes)
        first = fails[-1] + 1 if fails.size else 0  # every window point from here passes
        boundaries[k] = xs[first]
        exceptions.append(xs[:first][passes[:first]])
    m = max(1, max(len(e) for e in exceptions))
    table = np.full((len(t), m), np.nan)
    for k, e in enumerate(exceptions):
        table[k, : len(e)] = e
    return boundaries, table


_MAX_FINITE_KEY = int(np.array(np.finfo(np.float64).max).view(np.int64))


def _from_key(keys: np.ndarray) -> np.ndarray:
    """float64 values of order keys: a key is the value's bit pattern, negated for negatives,
    so keys order as the values do and consecutive keys are consecutive floats."""
    keys = np.clip(keys, -_MAX_FINITE_KEY, _MAX_FINITE_KEY)
    magnitude = np.abs(keys).view(np.float64)
    return np.where(keys < 0, -magnitude, magnitude)


def _bisect(t: float) -> int:
    """Key of a float64 x with sigmoid(x) >= t and sigmoid(previous float) < t (0 < t <= 1)."""
    lo, hi = -_MAX_FINITE_KEY, _MAX_FINITE_KEY  # sigmoid: 0 < t at lo, 1 >= t at hi
    while hi - lo > 1:  # Python ints: no overflow
        mid = (lo + hi) // 2
        if sigmoid(_from_key(np.array([mid], dtype=np.int64)))[0] >= t:
            hi = mid
        else:
            lo = mid
    return hi


# ------------------------------------------------------------------ per-slice thresholds
# The name under which per-slice heads were first published: ThresholdHead itself now takes each
# row's slice (``head(scores, slices)``, ``head.codes(values)``, ``head.slice_values``).
GroupThresholdHead = ThresholdHead
