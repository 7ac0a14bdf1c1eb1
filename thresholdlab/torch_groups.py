"""``GroupThresholdHead``: a config's per-slice thresholds (its ``groups`` section) in torch.

Imported by ``thresholdlab.torch``; use it from there.
"""

from __future__ import annotations

import dataclasses
import os
from typing import List

import numpy as np
import torch
from torch import nn

from thresholdlab.config import ThresholdConfig
from thresholdlab.groups import group_codes, group_values


class GroupThresholdHead(nn.Module):
    """:class:`~thresholdlab.torch.ThresholdHead` with each row's slice taken into account.

    ``head(scores, slices)`` decides a row whose slice code is ``g`` with the thresholds of the
    config's ``g``-th listed slice value (``head.slice_values``), and a row with code -1 with
    the top-level thresholds, exactly as ``thresholdlab.apply(config, scores, groups=values)``.
    :meth:`codes` turns slice values (text) into codes. Every slice's decisions come from its
    own ThresholdHead, so they are as exact as the plain head's; eager, scripted and exported.

    Parameters
    ----------
    config : ThresholdConfig or path of a config JSON file, with or without ``groups``
    exact : bool
        Passed to each slice's ThresholdHead.
    """

    def __init__(self, config: ThresholdConfig | str | os.PathLike, *, exact: bool = True):
        super().__init__()
        from thresholdlab.torch import ThresholdHead

        if not isinstance(config, ThresholdConfig):
            config = ThresholdConfig.load(config)
        self._config = config
        self.slice_values: List[str] = list(group_values(config))
        plain = dataclasses.replace(config, groups=None)
        self.default = ThresholdHead(plain, exact=exact)
        heads = []
        for value in self.slice_values:
            t = config.groups["thresholds"][value]
            heads.append(ThresholdHead(
                dataclasses.replace(plain, thresholds=dict(t), logit_thresholds=None), exact=exact))
        self.heads = nn.ModuleList(heads)

    def codes(self, values) -> torch.Tensor:
        """long (n,): each value's position in ``slice_values``, -1 when not listed."""
        return torch.from_numpy(group_codes(self._config, np.asarray(values, dtype=object)))

    def forward(self, scores: torch.Tensor, slices: torch.Tensor) -> torch.Tensor:
        out = self.default(scores)
        for g, head in enumerate(self.heads):
            chosen = slices == g
            if out.dim() == 2:
                chosen = chosen.unsqueeze(1)
            out = torch.where(chosen, head(scores), out)
        return out
