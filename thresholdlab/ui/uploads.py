"""The server's store of recent uploads (one per server process, shared by every session).

A loaded upload is kept here by its sha256 and leaves session state: the committed data set's
``Source`` holds its name and hash only, and its bytes are fetched from here when the file must
be read again (another decision rule, other column roles). A link naming the hash finds it
while it is kept.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import streamlit as st

from thresholdlab.predictions import DataError
from thresholdlab.upload_store import StoredUpload, UploadStore

if TYPE_CHECKING:  # data.py reads uploads through this module: the import points one way
    from thresholdlab.ui.data import Source


@st.cache_resource(show_spinner=False)
def store() -> UploadStore:
    """The process's store; its bounds come from the environment (see ``upload_store``)."""
    return UploadStore.from_env()


def keep(source: Source) -> Source:
    """Put an upload's bytes in the store; the same source without them, for session state.

    A file larger than the whole store keeps its bytes in the session (else it could not be
    read again), and a link to it cannot outlive the session.
    """
    if source.kind != "upload" or source.raw is None:
        return source
    if store().put(source.name, source.raw, source.sha256) is None:
        return source
    return replace(source, raw=None)


def find(sha_prefix: str) -> StoredUpload | None:
    return store().find(sha_prefix)


def file_bytes(source: Source) -> bytes:
    """``source``'s bytes: its own, or the store's copy; DataError once the store dropped it."""
    if source.raw is not None:
        return source.raw
    kept = store().find(source.sha256)
    if kept is None:
        raise DataError(
            f"The uploaded file {source.name!r} is no longer kept on the server (uploads are "
            f"{store().describe()}); upload it again."
        )
    return kept.data
