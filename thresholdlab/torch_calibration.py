"""A config's calibration as a torch module, for :class:`thresholdlab.torch.ThresholdHead`.

:class:`CalibrationLayer` repeats :meth:`thresholdlab.calibration_fit.Calibration.transform`
operation by operation in float64 (the same divide, multiply and add, the same interpolation
formula, the same sigmoid branches), eagerly, under ``torch.jit.script`` and ``torch.export``.
Only the sigmoid of multi-class Platt scaling calls ``exp``, whose last bit torch and numpy may
round differently; the head re-decides the rows that could hang on it (``uses_exp``).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["CalibrationLayer"]


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
