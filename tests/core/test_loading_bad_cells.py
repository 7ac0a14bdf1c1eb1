"""A bad cell is reported where it is, never allowed to change what a whole column or file means.

Two ways one cell used to decide for everything around it: a score column with one word in it
was dropped as text (and the file then had "no score columns"), and one negative probability
made every score of the file a logit.
"""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from thresholdlab.loading import load
from thresholdlab.predictions import DataError


def _csv(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


# --------------------------------------------------------------------------------------------
# A score column with a bad cell, under a name without a score prefix
# --------------------------------------------------------------------------------------------


def test_a_mostly_numeric_column_with_one_word_is_a_score_with_a_bad_cell():
    rows = [f"{i % 2},{0.2 + 0.6 * (i % 2)}" for i in range(20)]
    rows[6] = "0,oops"
    with pytest.raises(DataError) as error:
        load(_csv("y_true,y_pred", rows), name="preds.csv")
    assert str(error.value) == (
        "File 'preds.csv', column 'y_pred', row 7: 'oops' is not a number; fix the value or "
        "choose the score columns with --score-cols."
    )


def test_the_same_column_without_the_bad_cell_loads_as_the_score():
    rows = [f"{i % 2},{0.2 + 0.6 * (i % 2)}" for i in range(20)]
    pset = load(_csv("y_true,y_pred", rows), name="preds.csv")
    assert pset.columns["scores"] == ["y_pred"]
    np.testing.assert_array_equal(pset.probabilities[:, 0], [0.2 + 0.6 * (i % 2) for i in range(20)])


def test_a_text_column_of_words_is_still_not_a_score():
    rows = [f"{i % 2},{0.1 + 0.8 * (i % 2)},{'ok' if i % 3 else 'check'}" for i in range(12)]
    pset = load(_csv("label,p_yes,comment", rows), name="notes.csv")
    assert pset.columns["scores"] == ["p_yes"] and "comment" in pset.columns["ignored"]


def test_mostly_words_with_a_few_numbers_is_not_a_score():
    rows = [f"{i % 2},{i % 2 * 0.7 + 0.1},{'7' if i == 3 else 'n' + str(i)}" for i in range(12)]
    pset = load(_csv("label,score,code", rows), name="codes.csv")
    assert pset.columns["scores"] == ["score"]


# --------------------------------------------------------------------------------------------
# Probabilities with a bad cell are not logits
# --------------------------------------------------------------------------------------------


def _probabilities(n: int = 30, k: int = 3, seed: int = 15) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(k), n)


def _multiclass_file(p: np.ndarray) -> bytes:
    names = ["ant", "bee", "cat"]
    rows = [f"{names[i % 3]}," + ",".join(repr(float(v)) for v in row) for i, row in enumerate(p)]
    return _csv("label,p_ant,p_bee,p_cat", rows)


def test_one_negative_probability_stops_with_its_column_and_row():
    p = _probabilities()
    p[9, 1] = -0.25  # p_bee, row 10; every other row sums to 1
    with pytest.raises(DataError) as error:
        load(_multiclass_file(p), name="probs.csv")
    assert str(error.value) == (
        "File 'probs.csv', column 'p_bee', row 10: score -0.25 lies outside [0, 1] while 89 of "
        "the 90 scores lie in [0, 1] as probabilities do, so one cell does not make the file "
        "logits; fix that score, or use --score-kind logit if the scores are logits."
    )


def test_a_few_bad_cells_are_counted_and_the_first_is_named():
    p = _probabilities()
    p[3] = [1.5, -0.2, -0.3]
    with pytest.raises(DataError, match=r"column 'p_ant', row 4: score 1.5 lies outside \[0, 1\], "
                                        r"as do 2 other scores, while 87 of the 90 scores"):
        load(_multiclass_file(p), name="probs.csv")


def test_one_negative_binary_probability_is_a_bad_cell_too():
    p = np.linspace(0.02, 0.98, 40)
    p[17] = -0.5
    rows = [f"{i % 2},{float(v)!r}" for i, v in enumerate(p)]
    with pytest.raises(DataError, match=r"^File 'b.csv', column 'p_fraud', row 18: score -0.5 "):
        load(_csv("label,p_fraud", rows), name="b.csv")


def test_the_user_can_still_say_the_scores_are_logits():
    p = _probabilities()
    p[9, 1] = -0.25
    pset = load(_multiclass_file(p), name="probs.csv", score_kind="logit")
    assert (pset.score_kind, pset.activation) == ("logit", "softmax")


def test_logits_as_a_whole_are_still_logits():
    """Logits put a large share of their values outside [0, 1] (every probability below one
    half is a negative logit), and a tiny file decides nothing by its share."""
    logits = np.random.default_rng(3).normal(0.0, 2.0, (30, 3))
    pset = load(_multiclass_file(logits), name="logits.csv")
    assert (pset.score_kind, pset.activation) == ("logit", "softmax")
    # Mostly in [0, 1] but a file of four scores: too few to call the one outside a bad cell.
    tiny = load(_csv("label,logit_yes", ["1,0.9", "0,0.2", "1,2.5", "0,0.4"]), name="tiny.csv")
    assert tiny.score_kind == "logit"


@pytest.mark.parametrize(
    "column",
    [
        pa.array([[[1]], [[0]], [[1]]]),  # lists of numbers or of text are read (vectors, tags)
        pa.array([{"x": 1}, {"x": 0}, {"x": 1}]),
    ],
    ids=["list", "struct"],
)
def test_a_nested_parquet_column_is_one_sentence_naming_it(tmp_path, column):
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"label": column, "p_cat": [0.1, 0.8, 0.6]}), path)
    with pytest.raises(DataError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith("File 'nested.parquet', column 'label' holds nested values")
    assert message.endswith("save the file again.") and message.count(". ") == 0
