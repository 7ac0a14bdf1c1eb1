"""The dashboard refuses a file past the server's ceilings (environment variables) with the
loader's sentence, and keeps the data it had."""

from __future__ import annotations

import numpy as np

from apptest_support import errors, open_app, upload
from thresholdlab.loading.limits import ENV


def _csv(rows: int, classes: int = 3) -> bytes:
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(classes), size=rows)
    names = [f"c{j}" for j in range(classes)]
    lines = ["label," + ",".join(f"p_{c}" for c in names)]
    lines += [f"{names[i % classes]}," + ",".join(repr(float(v)) for v in row)
              for i, row in enumerate(p)]
    return ("\n".join(lines) + "\n").encode()


def test_an_upload_past_each_limit_is_refused_and_the_data_kept(monkeypatch):
    for variable in ENV.values():
        monkeypatch.delenv(variable, raising=False)
    at = open_app()
    before = at.session_state["dataset"].source.name
    cases = [
        ("THRESHOLDLAB_MAX_ROWS", "500", _csv(600),
         "File 'rows.csv' has 600 data rows, over the limit of 500;"),
        ("THRESHOLDLAB_MAX_COLUMNS", "4", _csv(20, classes=4),
         "File 'columns.csv' has 5 columns, over the limit of 4;"),
        ("THRESHOLDLAB_MAX_CLASSES", "3", _csv(20, classes=4),
         "File 'classes.csv' has 4 classes, over the limit of 3;"),
    ]
    for variable, value, data, sentence in cases:
        monkeypatch.setenv(variable, value)
        name = sentence.split("'")[1]
        upload(at, "upload_widget", name, data)
        assert not at.exception
        assert any(sentence in e for e in errors(at)), errors(at)
        assert at.session_state["dataset"].source.name == before
        monkeypatch.delenv(variable)
    # Within the limits the same file loads (a changed setting is not answered from the cache).
    upload(at, "upload_widget", "rows.csv", _csv(600))
    assert not errors(at) and at.session_state["dataset"].source.name == "rows.csv"
