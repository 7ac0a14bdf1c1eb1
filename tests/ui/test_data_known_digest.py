"""The dashboard hands the loader an upload's digest (taken to key its caches) instead of
having the file hashed again; a file on disk, keyed by path, size and change time, is hashed
when its digest is first asked for. Either way the PredictionSet records the digest of the
file's bytes, and a config exported from the page carries it."""

import hashlib
import json

import numpy as np
import pandas as pd

import thresholdlab.loading.source as source_module
from apptest_support import open_app
from thresholdlab.ui.data import Overrides, Source, load_predictions


def _parquet(tmp_path, name="preds.parquet"):
    rng = np.random.default_rng(2)
    p = rng.dirichlet(np.ones(3), size=50)
    frame = pd.DataFrame({"label": rng.integers(0, 3, 50),
                          **{f"p_{j}": p[:, j].astype(np.float32) for j in range(3)}})
    path = tmp_path / name
    frame.to_parquet(path, index=False)
    return path


def _changed_after_loading(tmp_path, monkeypatch, name: str, page: str):
    """The app on file ``name`` (``thresholdlab app FILE``), the file changed on disk after it
    loaded, then ``page``; returns the app and the file's path."""
    path = _parquet(tmp_path, name)
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(path))
    at = open_app()
    path.write_bytes(path.read_bytes() + b" ")
    at.switch_page(page).run()
    return at, path


def test_uploads_and_files_record_the_digest_of_their_bytes(tmp_path, monkeypatch):
    path = _parquet(tmp_path)
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    # Both keyed here: an upload by its bytes' digest, a file by its path, size and time.
    upload = Source.upload("upload.parquet", raw)
    on_disk = Source.file(path)
    hashed = []
    for name in ("sha256", "file_digest"):
        real = getattr(source_module.hashlib, name)
        monkeypatch.setattr(source_module.hashlib, name,
                            lambda *a, real=real, **k: hashed.append(real) or real(*a, **k))

    upload = load_predictions(upload, Overrides())
    assert upload.sha256 == digest and hashed == []
    loaded = load_predictions(on_disk, Overrides())
    assert hashed == []  # not while it loads
    assert loaded.sha256 == digest and len(hashed) == 1
    assert on_disk.sha256 != digest  # its cache key, not the content's digest


def test_the_export_page_records_a_file_s_digest_and_refuses_a_changed_file(tmp_path,
                                                                             monkeypatch):
    path = _parquet(tmp_path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setenv("THRESHOLDLAB_FILE", str(path))
    at = open_app(page="pages/export.py")
    shown = json.loads(at.code[0].value)
    assert shown["data"] == {"file": "preds.parquet", "sha256": digest, "rows": 50}

    # Another file, loaded and then changed before its digest was asked for.
    at, path = _changed_after_loading(tmp_path, monkeypatch, "later.parquet", "pages/export.py")
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"File '{path.resolve()}' changed on disk after it was loaded; load it again before "
        "saving or comparing its thresholds."
    ]


def test_the_cost_matrix_config_of_a_changed_file_is_refused_in_one_sentence(tmp_path,
                                                                             monkeypatch):
    at, _ = _changed_after_loading(tmp_path, monkeypatch, "costs.parquet",
                                   "pages/calibration.py")
    assert not at.exception
    assert any("changed on disk after it was loaded" in e.value for e in at.error)
