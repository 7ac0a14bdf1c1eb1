"""A config's calibration as a torch module, for :class:`thresholdlab.torch.ThresholdHead`.

:class:`CalibrationLayer` repeats :meth:`thresholdlab.calibration_fit.Calibration.transform`
operation by operation in float64 (the same divide, multiply and add, the same interpolation
formula, the same sigmoid branches), eagerly, under ``torch.jit.script`` and ``torch.export``.
Only the sigmoid of multi-class Platt scaling calls ``exp``, whose last bit torch and numpy may
round differently; the head re-decides the rows that could hang on it (``uses_exp``).

:func:`fit_scaling` fits temperature and vector scaling with LBFGS, for
:func:`thresholdlab.calibration_fit.fit_calibration` (wired by the package root, so that the core
never imports torch).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["CalibrationLayer", "fit_scaling"]


class CalibrationLayer(nn.Module):
    """Raw scores (n, K) float64 -> calibrated logits or one-vs-rest probabilities.

    Identity when built with ``None``. What comes out, and what the head does next, follows
    ``Calibration.output_activation`` (softmax / sigmoid of the calibrated logits, or
    probabilities) and ``renormalise`` (divide by the row sum, done by the head in numpy's
    summation order).

    Parameters
    ----------
    calibration : thresholdlab.calibration_fit.Calibration or None
    n_classes : int
    """

    def __init__(self, calibration, n_classes: int):
        super().__init__()
        self.method = "none" if calibration is None else str(calibration.method)
        self.multiclass = calibration is not None and calibration.task == "multiclass"
        self.clip_input = calibration is not None and calibration.score_kind == "probability"
        self.renormalise = calibration is not None and bool(calibration.renormalises)
        self.uses_exp = self.method == "platt" and self.multiclass
        k = int(n_classes)
        scale = np.ones(k)
        bias = np.zeros(k)
        if calibration is not None and calibration.scale is not None:
            scale = np.asarray(calibration.scale, dtype=np.float64)
        if calibration is not None and calibration.bias is not None:
            bias = np.asarray(calibration.bias, dtype=np.float64)
        # Isotonic breakpoints, one row per class, padded on the right: x with +inf (never
        # reached by a finite score's search), y with the class's last value. At least two
        # columns, so that "the next breakpoint" always exists.
        m = 2
        if calibration is not None and calibration.x_points is not None:
            m = max(2, max(len(x) for x in calibration.x_points))
        xs = np.full((k, m), np.inf)
        ys = np.zeros((k, m))
        last = np.zeros(k, dtype=np.int64)
        if calibration is not None and calibration.x_points is not None:
            for c, (x, y) in enumerate(zip(calibration.x_points, calibration.y_points)):
                xs[c, : len(x)] = x
                ys[c, : len(y)] = y
                ys[c, len(y):] = y[-1]
                last[c] = len(x) - 1
        self.register_buffer("scale", torch.from_numpy(scale.reshape(1, k).copy()))
        self.register_buffer("bias", torch.from_numpy(bias.reshape(1, k).copy()))
        self.register_buffer("x_points", torch.from_numpy(xs))
        self.register_buffer("y_points", torch.from_numpy(ys))
        self.register_buffer("last_point", torch.from_numpy(last.reshape(k, 1)))

    def _apply(self, fn, recurse=True):
        # The parameters stay float64 whatever the model around the head is cast to (a .half()
        # would round them and move decisions); devices move. The index buffer stays int64.
        kept = dict(self.named_buffers(recurse=False))
        super()._apply(fn, recurse)
        for name, old in kept.items():
            new = getattr(self, name)
            if new.dtype != old.dtype:
                setattr(self, name, old.to(device=new.device))
        return self

    def extra_repr(self) -> str:
        return f"method={self.method}, renormalise={self.renormalise}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.method == "none":
            return x
        if self.clip_input:
            # Probabilities a rounding error outside [0, 1] are clipped first, as apply does.
            x = x.clamp(0.0, 1.0)
        if self.method == "temperature":
            return x / self.scale
        if self.method == "vector":
            return x * self.scale + self.bias
        if self.method == "platt":
            z = x * self.scale + self.bias
            return _sigmoid(z) if self.multiclass else z
        return self._interpolate(x)

    def _interpolate(self, x: torch.Tensor) -> torch.Tensor:
        """``calibration_fit.interpolate`` per class, the same operations in the same order."""
        xt = x.t().contiguous()  # (K, n): searchsorted runs along each class's breakpoints
        j = torch.searchsorted(self.x_points, xt, right=True) - 1
        jl = torch.minimum(j.clamp(min=0), (self.last_point - 1).clamp(min=0))
        x0 = self.x_points.gather(1, jl)
        x1 = self.x_points.gather(1, jl + 1)
        y0 = self.y_points.gather(1, jl)
        y1 = self.y_points.gather(1, jl + 1)
        slope = (y1 - y0) / (x1 - x0)
        out = slope * (xt - x0) + y0
        out = torch.where(xt == x0, y0, out)
        first = self.y_points[:, 0:1].expand_as(out)
        final = self.y_points.gather(1, self.last_point).expand_as(out)
        out = torch.where(j < 0, first, out)
        out = torch.where(j >= self.last_point, final, out)
        return out.t().contiguous()


def _sigmoid(x: torch.Tensor) -> torch.Tensor:
    """``predictions.sigmoid`` in torch ops: the branch that cannot overflow for each sign."""
    pos = x >= 0
    ex = torch.exp(torch.where(pos, -x, x))
    return torch.where(pos, 1.0 / (1.0 + ex), ex / (1.0 + ex))


def fit_scaling(scores: np.ndarray, labels: np.ndarray, free: np.ndarray, multiclass: bool,
                method: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Temperature / vector scaling fitted with LBFGS on the mean NLL, in float64.

    The core's :func:`thresholdlab.calibration_fit.fit_calibration` reaches this through the
    scaling fitter the package root registers, so the core itself never imports torch.

    Parameters
    ----------
    scores : ndarray (n, K)
        The logits.
    labels : ndarray
        Multi-class: the true class index per row (n,); otherwise the 0/1 truth (n, K).
    free : ndarray (K,) of float64
        1 for each class to fit, 0 for a class left unchanged (no positives or no negatives).
    multiclass : bool
    method : {"temperature", "vector"}

    Returns
    -------
    inverse : ndarray
        The scales ``w`` (one for multi-class temperature, else K): ``1 / T`` for temperature.
    bias : ndarray (K,) or None
        The biases of vector scaling, uncentred.
    """
    z = torch.from_numpy(np.ascontiguousarray(scores, dtype=np.float64))
    n_rows, k = z.shape
    if multiclass:
        target = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64))
    else:
        target = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.float64))
    free = torch.from_numpy(np.ascontiguousarray(free, dtype=np.float64))
    n_params = 1 if (multiclass and method == "temperature") else k
    # Temperature is fitted as its inverse: the NLL is convex in 1/T (and in w, b), so LBFGS
    # has one minimum to find.
    inverse = torch.ones(n_params, dtype=torch.float64, requires_grad=True)
    params = [inverse]
    bias = None
    if method == "vector":
        bias = torch.zeros(k, dtype=torch.float64, requires_grad=True)
        params.append(bias)

    n = max(1, n_rows)
    # Sums over rows and within rows as matrix-vector products: BLAS runs them several times
    # faster than torch's reductions over short rows of a tall matrix.
    ones_n = torch.full((n_rows,), 1.0 / n, dtype=torch.float64)  # means
    ones_k = torch.ones(k, dtype=torch.float64)
    if multiclass:
        # What the truth contributes does not depend on the parameters: the mean true-class
        # logit per class (for w, and the NLL's own term) and the class shares (for b).
        true_logit = z.gather(1, target.unsqueeze(1)).squeeze(1)
        truth_w = torch.zeros(k, dtype=torch.float64).index_add_(0, target, true_logit) / n
        truth_b = torch.bincount(target, minlength=k).to(torch.float64) / n
        row_max = z.max(dim=1).values
        row_min = z.min(dim=1).values
    else:
        truth_mean = ones_n @ (target * z)  # (K,): mean of y * z per label
        truth_share = ones_n @ target

    def closure():
        # The mean NLL and its gradient written out (softmax or sigmoid minus the truth, times
        # the logits): a few passes over the matrix per evaluation, where autograd would keep
        # several (n, K) intermediates alive and take about twice as long.
        with torch.no_grad():
            w = inverse.expand(k)
            logits = z * inverse if bias is None else z * inverse + bias
            if multiclass:
                if bias is None:  # the max of z / T is known without a pass, whatever T's sign
                    top = torch.maximum(row_max * inverse, row_min * inverse)
                else:
                    top = logits.amax(dim=1)
                p = torch.exp(logits.sub_(top.unsqueeze(1)))
                total = p @ ones_k
                picked = w @ truth_w + (bias @ truth_b if bias is not None else 0.0)
                loss = ones_n @ (top + torch.log(total)) - picked
                p.div_(total.unsqueeze(1))
                grad_w = ones_n @ (p * z) - truth_w
                grad_bias = ones_n @ p - truth_b if bias is not None else None
            else:
                per_label = ones_n @ torch.nn.functional.softplus(logits) - w * truth_mean
                if bias is not None:
                    per_label = per_label - bias * truth_share
                loss = (per_label * free).sum()
                q = torch.sigmoid(logits)
                grad_w = (ones_n @ (q * z) - truth_mean) * free
                grad_bias = (ones_n @ q - truth_share) * free if bias is not None else None
            inverse.grad = grad_w.sum().reshape(1) if n_params == 1 else grad_w
            if bias is not None:
                bias.grad = grad_bias
        return loss

    optimiser = torch.optim.LBFGS(
        params, lr=1.0, max_iter=500, max_eval=1000, tolerance_grad=1e-10,
        tolerance_change=1e-14, history_size=20, line_search_fn="strong_wolfe",
    )

    # One intra-op thread: the passes are memory-bound, and on a machine whose cores are busy
    # (a shared server, a dashboard serving others) torch's thread pool waits on its slowest
    # worker; measured on 2 shared cores, 1M x 20 took 11-15 s on one thread, 27 s on two.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        optimiser.step(closure)
    finally:
        torch.set_num_threads(threads)
    inverse_out = inverse.detach().numpy().astype(np.float64)
    bias_out = None if bias is None else bias.detach().numpy().astype(np.float64)
    return inverse_out, bias_out
