# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make run   - create .venv, install, start the dashboard on a bundled sample
#   make test  - create .venv, install runtime + dev requirements and Chromium, run the suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test install install-dev chromium java bench samples screenshots clean fuzz

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Browser tests drive Debian's Chromium; Playwright's own browser download is not used.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# Spark (thresholdlab.spark and its tests) runs on Java 17, from Debian when java is missing.
java:
	@if ! command -v java >/dev/null 2>&1; then \
		echo "Installing Debian's openjdk-17-jre-headless for Spark"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	fi

run: install
	$(PY) -m streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

test: install-dev chromium java
	$(PY) -m pytest -q

bench: install-dev chromium java
	$(PY) -m benchmarks

# Coverage-guided fuzzing of every reader (atheris): FUZZ_SECONDS per reader, corpus and any
# crashing input under .fuzz/. Exit status 1 when any reader crashed.
FUZZ_SECONDS ?= 60
FUZZ_READERS ?= csv tsv parquet npz pt config
fuzz: install-dev
	@status=0; for reader in $(FUZZ_READERS); do \
		echo "== fuzzing the $$reader reader for $(FUZZ_SECONDS) s"; \
		$(PY) tests/fuzz/run.py $$reader -max_total_time=$(FUZZ_SECONDS) || status=1; \
	done; \
	if [ $$status -ne 0 ]; then echo "fuzz: crashes in .fuzz/crashes/"; fi; exit $$status

# Retake the README's pictures (docs/screenshots/) from the running app.
screenshots: install-dev chromium
	THRESHOLDLAB_SCREENSHOTS=docs $(PY) -m pytest -q tests/browser/test_screenshots.py

samples: install
	$(PY) sample_data/make_samples.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
