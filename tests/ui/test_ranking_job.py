"""The background ranking of the Thresholds page's first view: every class's AP and ROC AUC,
ranked on a pool of threads, equal scikit-learn's on the same scores (ties included) and the
one-pass ranking's; a partial ranking holds only finished classes."""

import numpy as np
import pytest
from sklearn import metrics as skm

from thresholdlab.curves import CurveIndex
from thresholdlab.metrics import RankingMetrics, ranking_metrics
from thresholdlab.synthetic import random_predictions
from thresholdlab.ui.ranking_job import PENDING, RankingJob, shown


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_every_class_ranked_in_threads_equals_scikit_learn(task):
    predictions = random_predictions(task, 3000, 5, seed=7, decimals=2)  # heavy ties
    index = CurveIndex.build(predictions)
    job = RankingJob(index)
    ranked = job.result()
    assert job.done() and job.classes_done == job.n_classes == predictions.n_classes
    truth = predictions.truth if task == "multiclass" else predictions.labels
    for c in range(predictions.n_classes):
        scores = predictions.probabilities[:, c]
        assert ranked.average_precision[c] == pytest.approx(
            skm.average_precision_score(truth[:, c], scores), abs=1e-12)
        assert ranked.roc_auc[c] == pytest.approx(skm.roc_auc_score(truth[:, c], scores),
                                                  abs=1e-12)
    one_pass = ranking_metrics(index)
    for field in ("average_precision", "roc_auc", "prevalence"):
        np.testing.assert_array_equal(getattr(ranked, field), getattr(one_pass, field))


def test_a_finished_ranking_and_the_placeholder_of_an_unranked_class():
    ranking = RankingMetrics(np.array([0.5, np.nan]), np.array([0.7, np.nan]),
                             np.array([0.4, 0.0]))
    job = RankingJob(None, finished=ranking)
    assert job.done() and job.classes_done == 2
    np.testing.assert_array_equal(job.result().average_precision, ranking.average_precision)
    assert shown(0.5, job, 0) == 0.5 and np.isnan(shown(float("nan"), job, 1))  # undefined
    assert np.isnan(shown(float("nan"), None, 1))


def test_a_class_not_ranked_yet_shows_the_placeholder():
    job = RankingJob(None, finished=RankingMetrics(np.array([0.5]), np.array([0.7]),
                                                   np.array([0.4])))
    job._ranked[0] = False  # as while its thread still sorts the column
    assert shown(0.5, job, 0) == PENDING
    assert np.isnan(job.provisional().average_precision).sum() == 0


def test_the_page_shows_first_then_fills_in_the_exact_ranking(monkeypatch):
    """A file too big to rank at once: the Thresholds page comes without AP / ROC AUC and says
    so; once the job has ranked every class, the next run shows scikit-learn's values."""
    from apptest_support import MULTICLASS, Core, open_app, table

    from thresholdlab.ui import data

    monkeypatch.setattr(data, "RANK_AT_ONCE", 0)
    at = open_app()
    job = at.session_state["dataset"].ranking_job
    assert job is not None and not job.started  # the page is drawn before ranking starts
    assert at.get("progress"), "no progress line while ranking"
    assert np.isnan(table(at)["AP"].to_numpy(dtype=float)).all()
    job.result()  # as the progress line's renewal starts it and waits for the end
    at.run()
    assert not at.exception and not at.get("progress")
    assert at.session_state["dataset"].ranking_job is None
    core = Core(MULTICLASS)
    truth = core.pset.truth
    shown = table(at).set_index("class").loc[list(core.classes)]
    for c in range(core.pset.n_classes):
        scores = core.pset.probabilities[:, c]
        assert shown["AP"].iloc[c] == pytest.approx(
            skm.average_precision_score(truth[:, c], scores), abs=1e-12)
        assert shown["ROC AUC"].iloc[c] == pytest.approx(skm.roc_auc_score(truth[:, c], scores),
                                                         abs=1e-12)
