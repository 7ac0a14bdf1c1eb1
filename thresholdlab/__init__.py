"""ThresholdLab: choose classification thresholds from saved scores and labels.

The core (this package, except ``thresholdlab.ui``) never imports Streamlit, and imports torch
only when given tensors, asked for ``thresholdlab.torch`` or asked to fit temperature or vector
scaling; use it from a notebook, a script or a serving job::

    import thresholdlab as tl
    data = tl.load("predictions.csv")
    index = tl.CurveIndex.build(data)
    best = tl.optimise(index, "f1")
    report = tl.evaluate(index, best.thresholds)
"""

from thresholdlab.version import __version__  # noqa: E402
from thresholdlab.predictions import DataError, PredictionSet, from_arrays  # noqa: E402
from thresholdlab.decisions import DecisionRule, decide  # noqa: E402
from thresholdlab.curves import CurveIndex  # noqa: E402
from thresholdlab.metrics import evaluate, ranking_metrics  # noqa: E402
from thresholdlab.optimise import Objective, optimise  # noqa: E402
from thresholdlab.config import ThresholdConfig, apply  # noqa: E402
from thresholdlab.loading import load  # noqa: E402
from thresholdlab.array_types import register_array_type  # noqa: E402
from thresholdlab.calibration_fit import register_scaling_fitter  # noqa: E402


def _apply_tensor(config, scores, groups=None):
    """Tensors given to :func:`apply` are decided by ``thresholdlab.torch``, which depends on
    the core: the core never imports it, so the package root, which sits above both, wires
    them, and torch is loaded only once a tensor arrives."""
    from thresholdlab.torch import apply_tensor

    return apply_tensor(config, scores, groups)


register_array_type("torch", "Tensor", _apply_tensor)


def _fit_scaling_with_torch(scores, labels, free, multiclass, method):
    """Temperature / vector scaling are fitted with torch's LBFGS in
    ``thresholdlab.torch_calibration``, which the core never imports: wired here, as tensors
    are, and torch is loaded only once such a fit is asked for."""
    from thresholdlab.torch_calibration import fit_scaling

    return fit_scaling(scores, labels, free, multiclass, method)


register_scaling_fitter(_fit_scaling_with_torch)

__all__ = [
    "CurveIndex", "DataError", "DecisionRule", "Objective", "PredictionSet", "ThresholdConfig",
    "__version__", "apply", "decide", "evaluate", "from_arrays", "load", "optimise",
    "ranking_metrics",
]
