"""What a session holds after an upload: not the file's bytes, and no copy of data another
session already loaded (caches are the server's, keyed by the bytes' sha256)."""

from __future__ import annotations

import dataclasses

from apptest_support import BINARY, SAMPLES, open_app, upload
from thresholdlab.ui import state


def _byte_holders(value, path: str, size: int, found: list[str], seen: set[int]) -> None:
    """Paths inside ``value`` to bytes at least half the upload's size."""
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        if len(value) * 2 >= size:
            found.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            _byte_holders(v, f"{path}[{k!r}]", size, found, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            _byte_holders(v, f"{path}[{i}]", size, found, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            _byte_holders(getattr(value, field.name), f"{path}.{field.name}", size, found, seen)


def test_a_loaded_upload_leaves_its_bytes_to_the_server_store():
    data = (SAMPLES / f"{BINARY}.csv").read_bytes()
    at = open_app()
    upload(at, "upload_widget", "good.csv", data)
    assert at.session_state["dataset"].source.name == "good.csv"
    found: list[str] = []
    for key, value in at.session_state.items():
        if key == state.W_UPLOAD:
            # Streamlit's own uploader keeps the file it shows until the user removes it or
            # the session ends; nothing of the app's holds the bytes.
            continue
        _byte_holders(value, key, len(data), found, set())
    assert found == []


def test_two_sessions_uploading_the_same_file_share_one_loaded_copy():
    data = (SAMPLES / f"{BINARY}.csv").read_bytes()
    first, second = open_app(), open_app()
    upload(first, "upload_widget", "a.csv", data)
    upload(second, "upload_widget", "a.csv", data)
    one, two = (at.session_state["dataset"] for at in (first, second))
    assert one.source.sha256 == two.source.sha256
    assert one.predictions is two.predictions  # one cache entry, keyed by the content hash
