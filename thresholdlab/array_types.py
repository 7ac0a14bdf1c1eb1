"""Array types of other libraries that :func:`thresholdlab.config.apply` hands on.

A torch tensor given to ``apply`` is decided by ``thresholdlab.torch`` on the tensor's device.
The core never imports that module (it imports the core), so the package root, which sits above
both, registers it here (``thresholdlab/__init__.py``), and ``apply`` looks its scores' type up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

_ARRAY_TYPES: dict[tuple[str, str], Callable[[Any, Any], Any]] = {}


def register_array_type(library: str, type_name: str, decide_array) -> None:
    """Have :func:`apply` hand scores of type ``library.type_name`` to ``decide_array``.

    Parameters
    ----------
    library, type_name : str
        The array type by name, such as ``"torch", "Tensor"``: it is never imported here. Scores
        of that type imply their library is loaded, so :func:`apply` finds the type in
        ``sys.modules``, and registering loads nothing.
    decide_array : callable
        ``decide_array(config, scores)`` returns the decisions in that library's type; it is
        called after ``config`` is loaded, before any numpy conversion.
    """
    _ARRAY_TYPES[(library, type_name)] = decide_array


def decider_for(scores):
    """The registered function for ``scores``' type, or None for numpy and array-likes."""
    for (library, type_name), decide_array in _ARRAY_TYPES.items():
        module = sys.modules.get(library)
        if module is not None and isinstance(scores, getattr(module, type_name)):
            return decide_array
    return None
