"""The sha256 a PredictionSet records: a file on disk is hashed when its digest is first asked
for (configs, comparisons), not while it loads, and never for bytes it no longer holds; bytes
are hashed while they parse; a digest the caller knows is taken as given."""

import hashlib
import os

import numpy as np
import pandas as pd
import pytest

import thresholdlab.loading.source as source_module
from thresholdlab.config import ThresholdConfig
from thresholdlab.loading import load
from thresholdlab.predictions import DataError


@pytest.fixture
def counted(monkeypatch):
    """Files hashed so far, by path."""
    hashed = []
    real = hashlib.file_digest

    def counting(f, digest):
        hashed.append(f.name)
        return real(f, digest)

    monkeypatch.setattr(source_module.hashlib, "file_digest", counting)
    return hashed


def _file(tmp_path, fmt="csv", seed=0):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(3), size=200).astype(np.float32)
    frame = pd.DataFrame({"label": rng.integers(0, 3, 200),
                          **{f"p_{j}": p[:, j] for j in range(3)}})
    path = tmp_path / f"preds.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_file_on_disk_is_hashed_once_when_its_digest_is_first_read(tmp_path, counted, fmt):
    path = _file(tmp_path, fmt)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    predictions = load(path)
    assert counted == []
    assert predictions.sha256 == expected and predictions.sha256 == expected
    assert counted == [str(path)]
    config = ThresholdConfig.from_choice(predictions, np.full(3, 0.5))
    assert config.data["sha256"] == expected and counted == [str(path)]


def test_a_file_changed_after_loading_has_its_digest_refused(tmp_path):
    path = _file(tmp_path)
    predictions = load(path)
    stat = path.stat()
    other = tmp_path / "other"
    other.mkdir()
    path.write_bytes(_file(other, seed=1).read_bytes())
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(DataError) as caught:
        predictions.sha256
    message = str(caught.value)
    assert message.startswith(f"File '{path}' changed on disk after it was loaded;")
    assert "load it again" in message and "\n" not in message


def test_a_file_changed_after_its_digest_was_taken_keeps_that_digest(tmp_path):
    path = _file(tmp_path)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    predictions = load(path)
    assert predictions.sha256 == expected
    path.write_text("label,p_a\n1,0.5\n")
    assert predictions.sha256 == expected  # the digest of the bytes that were loaded


def test_bytes_are_hashed_while_they_parse_and_a_known_digest_is_taken_as_given(tmp_path,
                                                                                 counted):
    raw = _file(tmp_path).read_bytes()
    loaded = load(raw, name="preds.csv")
    assert isinstance(loaded.digest, str)
    assert loaded.sha256 == hashlib.sha256(raw).hexdigest()
    given = "ab" * 32
    assert load(raw, name="preds.csv", sha256=given).sha256 == given
    assert load(_file(tmp_path), sha256=given).sha256 == given
    assert counted == []


def test_arrays_record_no_digest():
    from thresholdlab.predictions import from_arrays

    predictions = from_arrays(np.array([[0.2], [0.9]]), np.array([0, 1]), task="binary")
    assert predictions.sha256 == ""


def test_a_loaded_file_pickles_with_its_digest_to_come(tmp_path):
    import pickle

    path = _file(tmp_path, "parquet")
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    back = pickle.loads(pickle.dumps(load(path)))
    assert back.sha256 == expected
    assert np.array_equal(back.scores, load(path).scores)
