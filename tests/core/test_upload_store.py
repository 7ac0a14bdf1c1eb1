"""The store of recent uploads: by content hash, bounded in bytes and in age."""

from __future__ import annotations

import hashlib
import threading

from thresholdlab.upload_store import MAX_HOURS_ENV, MAX_MB_ENV, UploadStore


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_file_is_found_by_a_prefix_of_its_hash():
    store = UploadStore(1000, 60)
    digest = store.put("a.csv", b"label,p\n1,0.5\n")
    assert digest == sha(b"label,p\n1,0.5\n")
    found = store.find(digest[:12])
    assert (found.name, found.data) == ("a.csv", b"label,p\n1,0.5\n")
    assert store.find(digest[:12].upper()).sha256 == digest
    assert store.find("0" * 12) is None
    assert store.find(digest[:4]) is None  # too short to name a file


def test_files_expire_after_their_last_use():
    clock = Clock()
    store = UploadStore(1000, 60, clock=clock)
    digest = store.put("a.csv", b"aaa")
    clock.now = 50
    assert store.find(digest[:12]) is not None  # a use: kept 60 s from now
    clock.now = 100
    assert store.find(digest[:12]) is not None
    clock.now = 161
    assert store.find(digest[:12]) is None and len(store) == 0 and store.size == 0


def test_the_least_recently_used_go_first_when_the_size_is_exceeded():
    clock = Clock()
    store = UploadStore(10, 3600, clock=clock)
    a = store.put("a", b"aaaa")
    b = store.put("b", b"bbbb")
    clock.now = 1
    store.find(a[:12])  # a is now the most recent
    c = store.put("c", b"cccc")
    assert store.find(b[:12]) is None
    assert store.find(a[:12]) and store.find(c[:12]) and store.size == 8


def test_a_file_larger_than_the_store_is_not_kept_and_the_same_file_counts_once():
    store = UploadStore(10, 3600)
    assert store.put("big", b"x" * 11) is None and len(store) == 0
    store.put("one", b"12345")
    store.put("again", b"12345")
    assert len(store) == 1 and store.size == 5 and store.find(sha(b"12345")[:12]).name == "again"


def test_bounds_come_from_the_environment(monkeypatch):
    monkeypatch.setenv(MAX_MB_ENV, "2")
    monkeypatch.setenv(MAX_HOURS_ENV, "0.5")
    store = UploadStore.from_env()
    assert (store.max_bytes, store.max_age_s) == (2 * 1024 * 1024, 1800.0)
    assert store.describe() == "kept for 30 minutes after their last use, 2 MB in all"
    monkeypatch.setenv(MAX_MB_ENV, "lots")
    assert UploadStore.from_env().max_bytes == 512 * 1024 * 1024


def test_sessions_share_it_safely():
    store = UploadStore(64 * 100, 3600)
    payloads = [bytes([i]) * 64 for i in range(200)]

    def work(part):
        for p in part:
            store.put("f", p)
            store.find(sha(p)[:12])

    threads = [threading.Thread(target=work, args=(payloads[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 100 and store.size == 6400
