"""Decision rules on a sketch in the dashboard: thresholds whose decisions its counts cannot tell.

A sketch counts per-class ``threshold_argmax`` and multi-label ``at_least_one`` only where its
bins prove every row's decision (see :mod:`thresholdlab.sketch_index`); elsewhere its
``counts_at`` refuses with one sentence. So the dashboard offers a sketch every rule, as for
rows, and never holds thresholds it cannot count:

- a move to such thresholds (slider, number box, mode change) is not taken: the thresholds,
  and with them every number on the page, stay those of the last move the sketch could count,
  and the core's sentence shows above the numbers until the next move
  (:func:`show_refused_move`); an optimum or a restored config there is refused with that
  sentence where its own errors show;
- a rule chosen where the thresholds in effect cannot be counted is not taken either, and a
  sketch opened under such a rule gets its task's default one; the sidebar says why under the
  rule picker until the rule or the thresholds change (:func:`show_refused_rule`).

Both sentences stay while nothing has changed, not for one run: the browser may send a rerun of
its own after the app puts a widget back.

Checking a move is one ``counts_at`` on the index, as the numbers it guards are: O(K log B)
plus the core's check of class pairs, rows untouched.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from thresholdlab.predictions import DataError
from thresholdlab.sketch import is_binned

# The core's sentence for the last move that was not taken; shown once, above the numbers.
REFUSED_MOVE = "sketch_refused_move"
# The core's sentence (and what was done instead) for the last rule that was not taken; shown
# once, under the rule picker.
REFUSED_RULE = "sketch_refused_rule"


def refusal(index, thresholds) -> str | None:
    """The core's sentence when the sketch index ``index`` cannot count ``thresholds`` (K,)
    under its rule; None when it can, and always for rows in memory (they decide every rule)."""
    t = np.asarray(thresholds, dtype=np.float64).reshape(-1)
    if not is_binned(index) or len(t) != len(index.classes):
        return None  # another data set's thresholds: they are lined up elsewhere
    try:
        index.counts_at(t)
    except DataError as e:
        return str(e)
    return None


def check_move(index, thresholds, kept: tuple[str, tuple]) -> bool:
    """True when ``thresholds`` may replace the current ones on the data of ``index``; else
    False, and the core's sentence is kept for :func:`show_refused_move` with ``kept``: the
    data set's key and the thresholds that stay."""
    sentence = refusal(index, thresholds)
    st.session_state[REFUSED_MOVE] = None if sentence is None else (*kept, sentence)
    return sentence is None


def show_refused_move(dataset, thresholds) -> None:
    """On a page with sliders, above the numbers: the sentence of the last move not taken on
    the sketch ``dataset``, while the thresholds it left in place are in effect on the same
    data and rule. A rerun the browser sends by itself keeps it; the next move taken, or
    another rule, clears it. Nothing for rows in memory."""
    note = st.session_state.get(REFUSED_MOVE)
    if not dataset.binned or not note:
        return
    if note[0] == dataset.key and note[1] == tuple(float(t) for t in thresholds):
        st.warning(f"{note[2]} The thresholds stay at the last ones it could count.",
                   icon=":material/view_week:")


def refuse_rule(key: str, thresholds, sentence: str) -> None:
    """Keep ``sentence`` (a rule not taken, and what was done instead) for the data set whose
    key is ``key`` at ``thresholds``."""
    st.session_state[REFUSED_RULE] = (key, tuple(float(t) for t in thresholds), sentence)


def show_refused_rule(key: str, thresholds) -> None:
    """The sentence of the last rule not taken, where the rule is picked, while the data set,
    its rule and the thresholds are those it left in place."""
    note = st.session_state.get(REFUSED_RULE)
    if note and note[0] == key and note[1] == tuple(float(t) for t in thresholds):
        st.warning(note[2], icon=":material/view_week:")


def rule_caption(task: str) -> str | None:
    """What the rules that weigh classes against each other do on binned data (None for binary)."""
    if task == "multiclass":
        return (
            "On binned data, “most probable class passing its threshold” is counted wherever "
            "the bins prove each row's decision: always with one threshold for every class or "
            "with softmax thresholds above 0.5. Elsewhere a move is not taken and the page says "
            "why."
        )
    if task == "multilabel":
        return (
            "On binned data, “at least one label per row” is counted only where some label's "
            "threshold is passed by every row (at or below its lowest score): the bins do not "
            "say which rows have no label passing. Elsewhere a move is not taken and the page "
            "says why."
        )
    return None
