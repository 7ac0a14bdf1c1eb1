"""Recent uploads kept by content hash, so that a link to an uploaded view survives a reload.

The dashboard puts each file it loads from an upload here and names its hash in the URL; a
session opened from that link (a reload, a colleague on the same server) finds the file again
while it is kept. The store is bounded in bytes and in age, both configurable, and shared by
every session of a server process; it is thread-safe. Nothing here knows Streamlit.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

MAX_MB_ENV = "THRESHOLDLAB_UPLOADS_MAX_MB"
"""Megabytes of uploads kept in all (default :data:`DEFAULT_MAX_MB`; 0 keeps none)."""
MAX_HOURS_ENV = "THRESHOLDLAB_UPLOADS_MAX_HOURS"
"""Hours an upload is kept after it was last used (default :data:`DEFAULT_MAX_HOURS`)."""
DEFAULT_MAX_MB = 512
DEFAULT_MAX_HOURS = 24.0


@dataclass(frozen=True)
class StoredUpload:
    """One kept file: its name as uploaded, the sha256 of its bytes (hex), the bytes."""

    name: str
    sha256: str
    data: bytes

    def __repr__(self) -> str:  # never print a whole file
        return f"StoredUpload({self.name!r}, {self.sha256[:12]}…, {len(self.data):,} bytes)"


class UploadStore:
    """Uploads by sha256, least recently used dropped first.

    Parameters
    ----------
    max_bytes : int
        Total size kept; a file larger than this is not kept at all.
    max_age_s : float
        Seconds a file is kept after it was last put or found.
    clock : callable returning seconds, optional
        ``time.monotonic`` unless given (tests pass their own).
    """

    def __init__(self, max_bytes: int, max_age_s: float, clock=time.monotonic):
        self.max_bytes = int(max_bytes)
        self.max_age_s = float(max_age_s)
        self.clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[StoredUpload, float]] = OrderedDict()
        self._size = 0

    @classmethod
    def from_env(cls) -> "UploadStore":
        """Bounds from :data:`MAX_MB_ENV` and :data:`MAX_HOURS_ENV` (defaults when unset)."""
        def number(name: str, default: float) -> float:
            try:
                value = float(os.environ.get(name, default))
            except ValueError:
                return default
            return value if value >= 0 else default

        megabytes = number(MAX_MB_ENV, DEFAULT_MAX_MB)
        hours = number(MAX_HOURS_ENV, DEFAULT_MAX_HOURS)
        return cls(int(megabytes * 1024 * 1024), hours * 3600.0)

    # --------------------------------------------------------------------------------- use
    def put(self, name: str, data: bytes, sha256: str | None = None) -> str | None:
        """Keep ``data`` (``sha256``: its hex digest, computed when not given); returns the
        digest, or None when the file is larger than the whole store."""
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        if len(data) > self.max_bytes:
            return None
        with self._lock:
            now = self.clock()
            old = self._items.pop(sha256, None)
            if old is not None:
                self._size -= len(old[0].data)
            self._items[sha256] = (StoredUpload(name, sha256, bytes(data)), now)
            self._size += len(data)
            self._evict(now)
        return sha256

    def find(self, sha_prefix: str) -> StoredUpload | None:
        """The kept file whose sha256 starts with ``sha_prefix`` (at least 8 hex digits, as
        links carry 12), or None when none is kept; finding one counts as a use."""
        prefix = (sha_prefix or "").lower()
        if len(prefix) < 8:
            return None
        with self._lock:
            now = self.clock()
            self._evict(now)
            for sha, (item, _) in self._items.items():
                if sha.startswith(prefix):
                    self._items[sha] = (item, now)
                    self._items.move_to_end(sha)
                    return item
        return None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def size(self) -> int:
        """Bytes kept now."""
        return self._size

    def describe(self) -> str:
        """The bounds in words, for messages ("kept for 24 hours after their last use, 512 MB
        in all")."""
        hours = self.max_age_s / 3600
        age = f"{hours:g} hours" if hours >= 1 else f"{self.max_age_s / 60:g} minutes"
        return f"kept for {age} after their last use, {self.max_bytes / 1024 / 1024:g} MB in all"

    # ----------------------------------------------------------------------------- bounds
    def _evict(self, now: float) -> None:
        """Drop what is too old, then the least recently used until the size fits."""
        for sha in [s for s, (_, used) in self._items.items() if now - used > self.max_age_s]:
            self._size -= len(self._items.pop(sha)[0].data)
        while self._size > self.max_bytes and self._items:
            _, (item, _) = self._items.popitem(last=False)
            self._size -= len(item.data)
