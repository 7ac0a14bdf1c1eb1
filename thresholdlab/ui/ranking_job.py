"""Whole-data ranking (AP and ROC AUC of every class) computed in the background.

Ranking a class sorts its full score column (multi-class: the index covers only the rows a
class can win), so on millions of rows it takes longer than loading and indexing together.
The Thresholds page does not wait for it: sliders, tiles and the selected class's charts come
first, the classes are ranked on every core meanwhile (numpy's sort releases the GIL), and
:func:`progress` says how far it is and redraws the page once every class is ranked. Each
class's numbers are :func:`thresholdlab.metrics.class_ranking`'s, exactly as the one-pass
:func:`~thresholdlab.metrics.ranking_metrics` gives them.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
import streamlit as st

from thresholdlab.curves import CurveIndex
from thresholdlab.metrics import RankingMetrics, class_ranking

POLL_SECONDS = 1.0
_DRAWN = "ranking_progress_drawn"  # the job whose progress line this session has drawn


class RankingJob:
    """AP and ROC AUC of every class of ``index``, ranked on a pool of threads.

    Started by :meth:`start` (or ``start=True``), by :meth:`result`, or by the page's
    :func:`progress` once the first view is drawn: ranking threads running while the page
    is being built and drawn would take the CPU from it. Shared by every session (cached).
    """

    def __init__(self, index: CurveIndex | None, *, finished: RankingMetrics | None = None,
                 start: bool = False):
        self._lock = threading.Lock()
        self._index = index
        if finished is not None:
            self._ap, self._auc = finished.average_precision, finished.roc_auc
            self._prevalence = finished.prevalence
            self._futures = []
            self.classes_done = self.n_classes = len(finished.prevalence)
            self._ranked = np.ones(self.n_classes, dtype=bool)
            return
        predictions = index.predictions
        k, n = predictions.n_classes, predictions.n_rows
        self.n_classes, self.classes_done = k, 0
        self._ap, self._auc = np.full(k, np.nan), np.full(k, np.nan)
        self._ranked = np.zeros(k, dtype=bool)
        self._prevalence = index.positives / n if n else np.zeros(k)
        self._futures = None
        if start:
            self.start()

    def start(self) -> None:
        """Queue every class on a pool of threads, once; returns at once."""
        with self._lock:
            if self._futures is not None:
                return
            k = self.n_classes
            pool = ThreadPoolExecutor(max_workers=max(1, min(k, os.cpu_count() or 1)),
                                      thread_name_prefix="thresholdlab-ranking")
            self._futures = [pool.submit(self._rank, self._index, c) for c in range(k)]
            pool.shutdown(wait=False)  # the threads finish the queued classes, then end

    @property
    def started(self) -> bool:
        return self._futures is not None

    def _rank(self, index: CurveIndex, c: int) -> None:
        ap, auc = class_ranking(index, c)
        with self._lock:
            self._ap[c], self._auc[c] = ap, auc
            self._ranked[c] = True
            self.classes_done += 1

    def ranked(self, c: int) -> bool:
        """Class ``c`` is ranked (its AP and ROC AUC final, NaN where undefined)."""
        return bool(self._ranked[c])

    def done(self, timeout: float = 0.0) -> bool:
        """Every class ranked (waiting up to ``timeout`` seconds for it, if started)."""
        return self.started and not wait(self._futures, timeout=timeout).not_done

    def result(self) -> RankingMetrics:
        """The ranking of every class, waiting for it; a failed class raises its error."""
        self.start()
        for future in self._futures:
            future.result()
        return self._snapshot()

    def provisional(self) -> RankingMetrics:
        """The classes ranked so far; NaN for the others (exact prevalence for all)."""
        return self._snapshot()

    def _snapshot(self) -> RankingMetrics:
        with self._lock:
            return RankingMetrics(self._ap.copy(), self._auc.copy(), self._prevalence.copy())


def progress(job: RankingJob | None) -> None:
    """While ``job`` runs: a line saying how many classes are ranked, renewed every second;
    the whole page runs again once they all are (titles, tables and tiles get the numbers).

    The job starts on the first renewal, once the page's first view has gone to the browser.
    """
    if job is None:
        return

    @st.fragment(run_every=POLL_SECONDS)
    def poll():
        if job.done():
            st.rerun()
        if st.session_state.get(_DRAWN) is job:
            job.start()
        st.session_state[_DRAWN] = job
        st.progress(
            job.classes_done / job.n_classes,
            text=f"Average precision and ROC AUC over all rows: {job.classes_done} of "
                 f"{job.n_classes} classes ranked; the others fill in when done.",
        )

    poll()


PENDING = "…"  # a chart title's AP or ROC AUC while its class is not ranked yet


def shown(value: float, job: RankingJob | None, c: int) -> float | str:
    """Class ``c``'s ``value``, or :data:`PENDING` while ``job`` has not ranked the class."""
    return PENDING if job is not None and not job.ranked(c) else value
