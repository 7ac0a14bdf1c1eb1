"""Step 1: where the bytes come from.

A path, an upload or raw bytes becomes a :class:`Source` (display name, size, and the bytes or
the path); the size limit and the format (by extension) are checked here, before any parsing.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import threading
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa

from thresholdlab.predictions import DataError

DEFAULT_MAX_BYTES = 2 * 1024**3
"""Largest file :func:`load` reads (2 GiB); exact mode holds every row in memory."""
FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".npz": "npz",
    ".pt": "pt",
    ".pth": "pt",
}
_COMPRESSIBLE = {".csv", ".txt", ".tsv", ".parquet", ".pq"}


@dataclass(frozen=True)
class Source:
    """A file to load: its display name and size, and either its bytes or its path.

    A file on disk is not read into memory up front: pyarrow reads Parquet from the path, and
    holding the bytes as well would cost the file's whole size on top of the parsed table.
    """

    file: str
    size: int
    data: bytes | None = None
    path: Path | None = None
    shown: str = ""  # the path as the user gave it, for messages

    def in_memory(self) -> Source:
        """The same source with its bytes read, for the parsers that need them all at once."""
        if self.data is not None:
            return self
        with _file_errors(self.shown):
            return replace(self, data=self.path.read_bytes())

    def unpacked(self, max_bytes: int) -> Source:
        """The same source with a compressed file's text (``preds.csv.gz``) as its bytes, for
        the readers; itself when the name says no compression or the bytes are not compressed
        (pandas' ``df.parquet.gzip``, a Parquet file whose pages are)."""
        kind = compression(self.file)
        if kind is None:
            return self
        if self.data is None:
            with _file_errors(self.shown), self.path.open("rb") as f:
                if not f.read(len(_MAGIC[kind])) == _MAGIC[kind]:
                    return self
        text = unpacked_bytes(self.in_memory().data, self.file, max_bytes)
        return Source(self.file, len(text), data=text, shown=self.shown)

    def sha256(self) -> str:
        """Hex digest of the file's bytes; a file on disk is hashed in chunks, never held whole."""
        if self.data is not None:
            return hashlib.sha256(self.data).hexdigest()
        with _file_errors(self.shown), self.path.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()

    def arrow_file(self) -> pa.NativeFile:
        """The file for pyarrow to read: the path opened by pyarrow, or the bytes (no copy)."""
        if self.data is not None:
            return pa.BufferReader(self.data)
        with _file_errors(self.shown):
            return pa.OSFile(str(self.path))


@contextmanager
def _file_errors(shown: str):
    """OS errors while opening or reading a file on disk, as the one sentence a user can act on."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"File '{shown}' was not found; check the path.") from None
    except PermissionError:
        raise DataError(
            f"File '{shown}' cannot be read: permission denied; give your user read access to "
            "it (or copy it somewhere readable) and load it again."
        ) from None
    except OSError as exc:
        raise DataError(
            f"File '{shown}' cannot be read ({exc.strerror or exc}); check the path and the "
            "disk, and load it again."
        ) from None


class FileDigest:
    """The sha256 of a file on disk, computed once, when first asked for.

    Hashing costs about as much as parsing (0.07 s of a core for a 100 MB Parquet file, which
    pyarrow decodes in 0.04 s on two), and only configs and comparisons need the digest, so a
    load does not wait for it. The file's size, change time and inode are noted when it is
    loaded: a file changed since then holds other bytes than those loaded, and its digest is
    refused with a DataError rather than recorded for data it does not describe.
    """

    def __init__(self, source: Source):
        self._source = source  # a file on disk: its path, never its bytes
        self._stamp = _stamp(source)
        self._value: str | None = None
        self._lock = threading.Lock()  # two pages asking at once hash the file once

    def __call__(self) -> str:
        """The digest; raises DataError when the file is gone or changed since it was loaded."""
        with self._lock:
            if self._value is None:
                value = self._source.sha256()
                if _stamp(self._source) != self._stamp:
                    raise DataError(
                        f"File '{self._source.shown}' changed on disk after it was loaded; "
                        "load it again before saving or comparing its thresholds."
                    )
                self._value = value
            return self._value

    # A PredictionSet may be pickled (a notebook's cache): the lock is not, and a new one
    # does as well.
    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def _stamp(source: Source) -> tuple[int, int, int]:
    with _file_errors(source.shown):
        st = source.path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def read_source(source, name: str | None, max_bytes: int) -> Source:
    """The file behind ``source`` and its display name; refuses files over ``max_bytes``.

    A path is checked here (it exists, is a file, is small enough, can be opened) but not read.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        file = name or path.name
        with _file_errors(f"{source}"):
            size = path.stat().st_size
            if path.is_dir():
                raise DataError(f"'{source}' is a folder, not a file; give the path of a file.")
            _check_size(file, size, max_bytes)
            with path.open("rb"):  # an unreadable file fails here, before anything is parsed
                pass
        return Source(file, size, path=path, shown=f"{source}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif hasattr(source, "read"):
        name = name or getattr(source, "name", None)
        data = source.getvalue() if hasattr(source, "getvalue") else source.read()
        if not isinstance(data, (bytes, bytearray)):
            raise DataError("Uploads must be opened in binary mode; read the file as bytes.")
        data = bytes(data)
    else:
        raise DataError(
            f"Cannot read predictions from a {type(source).__name__}; "
            "give a file path or the file's bytes."
        )
    if not name:
        raise DataError(
            "Uploaded data needs a file name whose extension tells its format "
            "(.csv, .tsv, .parquet, .npz or .pt)."
        )
    file = Path(str(name)).name or str(name)
    _check_size(file, len(data), max_bytes)
    return Source(file, len(data), data=data)


def _check_size(file: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise DataError(
            f"File '{file}' is {_human_size(size)}, over the limit of {_human_size(max_bytes)}; "
            "load a sample of its rows or split it."
        )


def out_of_memory_sentence(file: str, fmt: str) -> str:
    """What to do with a file whose rows do not fit in the memory free here."""
    if fmt in ("csv", "tsv", "parquet"):
        return (
            f"File '{file}' does not fit in the memory free on this machine; make a sketch of "
            f"it with `thresholdlab sketch {shlex.quote(file)} -o "
            f"{shlex.quote(Path(file).stem + '-sketch.parquet')}` "
            "(DuckDB, out of core) and open that file instead, or load a sample of its rows."
        )
    return (f"File '{file}' does not fit in the memory free on this machine; load a sample "
            "of its rows.")


def _human_size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        n /= 1024
        if n < 1024 or unit == "TiB":
            return f"{n:.3g} {unit}"
    raise AssertionError("unreachable")


def file_format(file: str) -> str:
    """Format key (``csv``, ``tsv``, ``parquet``, ``npz``, ``pt``) from the file's extension;
    a compressed file's (``preds.csv.gz``) from the extension before the compression's."""
    ext = Path(file).suffix.lower()
    if compression(file) is not None:
        ext = Path(Path(file).stem).suffix.lower()
    if ext not in FORMATS:
        shown = f"extension '{ext}'" if ext else "no extension"
        packed = (" (compressed: .csv.gz, .tsv.gz or .parquet.gz)"
                  if ext in COMPRESSIONS else "")
        raise DataError(
            f"File '{file}' has {shown}, which ThresholdLab does not read; "
            f"save it as .csv, .tsv, .parquet, .npz or .pt{packed}."
        )
    return FORMATS[ext]


COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
"""Compressed files the loader opens, by the last extension (``preds.csv.gz``); the one before
it gives the format."""
_MAGIC = {"gzip": b"\x1f\x8b", "bz2": b"BZh", "xz": b"\xfd7zXZ\x00", "zip": b"PK\x03\x04"}
_CHUNK = 1 << 22


def compression(file: str) -> str | None:
    """``gzip``, ``bz2``, ``xz`` or ``zip`` when the name says the file is compressed."""
    path = Path(file)
    inner = Path(path.stem).suffix.lower()
    ext = path.suffix.lower()
    return COMPRESSIONS[ext] if ext in COMPRESSIONS and inner in _COMPRESSIBLE else None


def unpacked_bytes(data: bytes, file: str, max_bytes: int) -> bytes:
    """The decompressed bytes of a file whose name says it is compressed; ``data`` itself when
    it does not start as such a file does. Refuses text over ``max_bytes`` as it is read, so a
    small archive cannot fill the memory."""
    import bz2
    import gzip
    import lzma
    import zipfile
    from io import BytesIO

    kind = compression(file)
    if kind is None or not data.startswith(_MAGIC[kind]):
        return data
    try:
        if kind == "zip":
            archive = zipfile.ZipFile(BytesIO(data))
            # macOS's Finder adds __MACOSX/ entries (resource forks) to every archive it makes.
            members = [m for m in archive.infolist() if not m.is_dir()
                       and not m.filename.startswith("__MACOSX/")
                       and not Path(m.filename).name.startswith("._")]
            if len(members) != 1:
                raise DataError(
                    f"File '{file}' is a zip archive of {len(members)} files; zip one "
                    "prediction file alone (or load it unzipped)."
                )
            stream = archive.open(members[0])
        else:
            opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
            stream = opener(BytesIO(data))
        parts, size = [], 0
        with stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DataError(
                        f"File '{file}' holds more than {_human_size(max_bytes)} once "
                        "decompressed, over the limit; load a sample of its rows or split it."
                    )
                parts.append(chunk)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise DataError(
            f"File '{file}' cannot be decompressed ({exc}); check that it was copied whole, "
            "or load it uncompressed."
        ) from None
    return b"".join(parts)


def release_arrow_memory() -> None:
    """Hand the memory that Arrow's allocator keeps after a table is freed back to the OS.

    pyarrow's pool (mimalloc or jemalloc) holds freed pages for reuse, so without this a parsed
    table (Parquet, or CSV through pyarrow's parser) would go on counting in the process's
    memory long after it is gone.
    """
    pa.default_memory_pool().release_unused()
