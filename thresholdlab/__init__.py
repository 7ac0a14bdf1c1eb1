"""ThresholdLab: choose classification thresholds from saved scores and labels.

The core (this package, except ``thresholdlab.ui``) never imports Streamlit; use it from a
notebook, a script or a serving job.
"""

__version__ = "0.1.0"

from thresholdlab.predictions import DataError, PredictionSet, from_arrays  # noqa: E402
from thresholdlab.decisions import DecisionRule, decide  # noqa: E402

__all__ = ["DataError", "DecisionRule", "PredictionSet", "__version__", "decide", "from_arrays"]
