"""AppTest fixtures: caches cleared between apps (they live for the whole process)."""

import sys
from pathlib import Path

import pytest
import streamlit as st

# The helpers module sits next to this file; pytest's import mode does not add this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def fresh_caches():
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
