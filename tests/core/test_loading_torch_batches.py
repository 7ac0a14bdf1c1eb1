"""``.pt`` files as evaluation loops save them: outputs kept batch by batch in a list, batches
stacked by mistake, the pre-1.6 file format, sparse and meta tensors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from thresholdlab.loading import load  # noqa: E402
from thresholdlab.predictions import DataError  # noqa: E402


def _batches(n=250, size=32, k=3, seed=0):
    rng = np.random.default_rng(seed)
    scores = torch.softmax(torch.from_numpy(rng.normal(size=(n, k))).float(), dim=1)
    labels = torch.from_numpy(rng.integers(0, k, n))
    return scores, labels, list(torch.split(scores, size)), list(torch.split(labels, size))


def test_a_list_of_batch_outputs_is_their_rows_one_after_the_other(tmp_path):
    scores, labels, score_batches, label_batches = _batches()
    assert len(score_batches) == 8 and len(score_batches[-1]) == 26  # a short last batch
    torch.save({"scores": score_batches, "labels": label_batches}, tmp_path / "list.pt")
    torch.save({"scores": scores, "labels": labels}, tmp_path / "whole.pt")
    listed, whole = load(tmp_path / "list.pt"), load(tmp_path / "whole.pt")
    assert listed.n_rows == 250 and listed.classes == whole.classes
    np.testing.assert_array_equal(listed.scores, whole.scores)
    np.testing.assert_array_equal(listed.labels, whole.labels)
    assert listed.notes[:2] == (
        "The 8 tensors in 'scores' are read as their rows one after the other, as torch.cat "
        "joins batches.",
        "The 8 tensors in 'labels' are read as their rows one after the other, as torch.cat "
        "joins batches.",
    )


def test_binary_batches_with_a_short_last_one_are_not_read_as_classes(tmp_path):
    """Sigmoid outputs in batches of 32, the last of 8: 232 binary rows."""
    rng = np.random.default_rng(1)
    p = torch.from_numpy(rng.random(232))
    y = torch.from_numpy(rng.integers(0, 2, 232))
    torch.save({"scores": list(p.split(32)), "labels": list(y.split(32))}, tmp_path / "b.pt")
    loaded = load(tmp_path / "b.pt")
    assert loaded.task == "binary" and loaded.n_rows == 232
    np.testing.assert_array_equal(loaded.probabilities[:, 0], p.numpy())


def test_one_tensor_per_sample_is_one_row_each(tmp_path):
    """A list of each sample's scores (one-dimensional, all of one length) and labels."""
    rng = np.random.default_rng(6)
    proba = rng.dirichlet([1, 1, 1, 1], 40)
    truth = rng.random((40, 4)) < 0.3
    torch.save({"scores": [torch.from_numpy(r) for r in proba],
                "labels": [torch.from_numpy(r.astype(np.int64)) for r in truth]}, tmp_path / "s.pt")
    loaded = load(tmp_path / "s.pt")
    assert loaded.task == "multilabel" and loaded.n_rows == 40
    np.testing.assert_array_equal(loaded.labels, truth)


def test_stacked_batches_are_named_in_a_note(tmp_path):
    rng = np.random.default_rng(2)
    p = torch.from_numpy(rng.random((8, 32)))
    torch.save({"scores": p, "labels": (p > 0.5).long()}, tmp_path / "stacked.pt")
    assert ("Tensor 'scores' has fewer rows (8) than columns (32): if it holds batches stacked "
            "one on another, save them joined instead (torch.cat, np.concatenate), one row per "
            "sample.") in load(tmp_path / "stacked.pt").notes


def test_batches_of_different_widths_are_one_sentence(tmp_path):
    torch.save({"scores": [torch.rand(4, 3), torch.rand(4, 2)], "labels": torch.zeros(8)},
               tmp_path / "ragged.pt")
    with pytest.raises(DataError, match=r"File 'ragged.pt', tensor list 'scores': its 2 tensors "
                                        r"differ past their first dimension; save one tensor"):
        load(tmp_path / "ragged.pt")


def test_the_file_format_before_pytorch_1_6_loads(tmp_path):
    scores, labels, _, _ = _batches()
    torch.save({"scores": scores, "labels": labels}, tmp_path / "old.pt",
               _use_new_zipfile_serialization=False)
    torch.save({"scores": scores, "labels": labels}, tmp_path / "new.pt")
    assert not (tmp_path / "old.pt").read_bytes().startswith(b"PK")
    np.testing.assert_array_equal(load(tmp_path / "old.pt").scores, load(tmp_path / "new.pt").scores)


def test_sparse_and_meta_tensors(tmp_path):
    scores, labels, _, _ = _batches(n=40)
    one_hot = torch.nn.functional.one_hot(labels, 3).float()
    torch.save({"scores": scores, "labels": one_hot.to_sparse()}, tmp_path / "sparse.pt")
    torch.save({"scores": scores, "labels": one_hot}, tmp_path / "dense.pt")
    np.testing.assert_array_equal(load(tmp_path / "sparse.pt").labels, load(tmp_path / "dense.pt").labels)
    torch.save({"scores": torch.empty(40, 3, device="meta"), "labels": labels}, tmp_path / "meta.pt")
    with pytest.raises(DataError, match=r"tensor 'scores' holds no values \(it is on the meta "
                                        r"device\); save the tensor computed"):
        load(tmp_path / "meta.pt")


def test_equal_label_batches_beside_score_batches_are_joined_too(tmp_path):
    scores, labels, _, _ = _batches(n=40)
    torch.save({"scores": list(scores.split(8)), "labels": list(labels.split(8))},
               tmp_path / "even.pt")
    loaded = load(tmp_path / "even.pt")
    assert loaded.n_rows == 40
    np.testing.assert_array_equal(loaded.labels, labels.numpy())
