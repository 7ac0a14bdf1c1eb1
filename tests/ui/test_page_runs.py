"""Every run of a page draws the sidebar and reads the data set of that run, also after a run
in which the page stopped early (``st.stop()``), whose writes to session state after the stop
are lost."""

from apptest_support import errors, open_app, upload


def test_a_page_that_stopped_early_still_gets_its_sidebar_on_the_next_runs():
    at = open_app()
    upload(at, "upload_widget", "two_rows.csv", b"label,p_a,p_b,note\na,0.3,0.7,x\nb,0.6,0.4,y\n")
    at.switch_page("pages/evaluation.py").run()
    drawn = len(at.sidebar.children)
    assert drawn > 0
    at.run()  # the page stops early: two rows cannot be split
    at.slider(key="ev_share").set_value(0.1).run()
    assert not at.exception
    assert len(at.sidebar.children) == drawn
    assert any("leaves one part empty" in e for e in errors(at))
    assert at.session_state["dataset"].source.name == "two_rows.csv"
