"""ThresholdLab's benchmarks: run them all with ``python -m benchmarks``.

Each benchmark measures the project against a baseline in the same process run (scikit-learn,
``np.sort``, pandas, a one-slider Streamlit app) and prints medians over repeats, the ratio, and
the budget it is held to. They are never timed inside the test suite; ``tests/test_benchmarks_smoke.py``
only runs them at tiny sizes so they cannot rot.
"""
