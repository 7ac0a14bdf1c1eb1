"""A link is anyone's to write: names in it never come back as links, images or HTML."""

import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import APP, MULTICLASS, TIMEOUT, open_app, thresholds_in_state


def shown_text(at) -> str:
    parts = []
    for kind in ("info", "warning", "error", "success", "markdown", "caption"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [str(e.value) for e in at.sidebar.markdown]
    return "\n".join(parts)


@pytest.mark.parametrize("query", [
    {"file": "[Sign in again](https://evil.example/login).csv"},
    {"sample": "![pixel](http://tracker.example/p.png)"},
    {"label_col": "<img src=http://tracker.example/p.png>"},
    {"class": "`code`"},
    {"file": "see www.evil.example.csv"},
], ids=["file-link", "sample-image", "column-html", "class-code", "bare-address"])
def test_markup_in_a_link_is_ignored_and_never_shown(query):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in {"sample": MULTICLASS, "t": "0.2,0.3,0.4", **query}.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception
    text = shown_text(at)
    assert "evil.example" not in text and "tracker.example" not in text and "`code`" not in text
    assert "hold characters that no file, column or class name here has" in text
    # the rest of the link still works
    assert thresholds_in_state(at).tolist() == [0.2, 0.3, 0.4]


def test_ordinary_names_in_a_link_still_work():
    at = open_app(MULTICLASS, file="my scores (final) v2.csv", t="0.2,0.3,0.4")
    assert "my scores (final) v2.csv" in shown_text(at)
    assert "hold characters" not in shown_text(at)
