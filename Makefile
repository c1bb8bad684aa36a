# csmetrics: the one interface. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
# One Cargo target directory and one pip cache outside the clone, so repeat runs are incremental.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/csmetrics/target
export PIP_CACHE_DIR ?= $(HOME)/.cache/pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_RETRIES := 10
export PIP_TIMEOUT := 60
# A registry hiccup on a fresh machine should not fail the run: each environment's install is tried
# three times. $(call pip_install,VENV,ARGS)
pip_install = for try in 1 2 3; do $(1)/bin/pip install -q $(2) && exit 0; \
	echo "pip install into $(1) failed (try $$try of 3)" >&2; sleep 15; done; exit 1

VENV := .venv
COMPAT := .venv-compat
REF := .venv-ref
LIFETIMES := .venv-lifetimes
DOCS := .venv-docs
WHEELS := $(CARGO_TARGET_DIR)/wheels/csmetrics
PROFILE ?= release

.PHONY: help demo report-check test test-rust test-python test-reference test-notebooks test-docs docs notebooks wheel bench fuzz lint fmt clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.ready: requirements/test.txt
	$(PYTHON) -m venv $(VENV)
	$(call pip_install,$(VENV),-r requirements/test.txt)
	touch $@

$(COMPAT)/.ready: requirements/compat.txt
	$(PYTHON) -m venv $(COMPAT)
	$(call pip_install,$(COMPAT),-r requirements/compat.txt)
	touch $@

$(REF)/.ready: requirements/reference.txt
	$(PYTHON) -m venv $(REF)
	$(call pip_install,$(REF),-r requirements/reference.txt)
	touch $@

$(DOCS)/.ready: requirements/docs.txt
	$(PYTHON) -m venv $(DOCS)
	$(call pip_install,$(DOCS),-r requirements/docs.txt)
	touch $@

# lifetimes (the CLV benchmark's peer) needs pandas 1.x: its own environment.
$(LIFETIMES)/.ready: bench/requirements-lifetimes.txt
	$(PYTHON) -m venv $(LIFETIMES)
	$(call pip_install,$(LIFETIMES),-r bench/requirements-lifetimes.txt)
	touch $@

wheel: $(VENV)/.ready ## build the Python wheel (PROFILE=release; PROFILE=dist for fat LTO)
	rm -rf $(WHEELS)
	$(VENV)/bin/maturin build --profile $(PROFILE) --out $(WHEELS) --quiet
	$(VENV)/bin/pip install -q --force-reinstall --no-deps $(WHEELS)/*.whl

DEMO := out/demo
DEMO_TABLES := subscriptions responses tickets usage costs trials conversions customers milestones

demo: wheel ## build, install and run the main job on generated sample data (with its Stripe export), then write its HTML reports
	$(VENV)/bin/csmetrics demo --out $(DEMO)
	MPLBACKEND=Agg $(VENV)/bin/csmetrics report $(foreach t,$(DEMO_TABLES),--$(t) $(DEMO)/$(t).parquet) --period month --activation data_connected --sla-hours high=4,normal=12,low=24 --out $(DEMO)/report.html
	MPLBACKEND=Agg $(VENV)/bin/csmetrics report --stripe-subscriptions $(DEMO)/stripe/subscriptions.jsonl --stripe-invoices $(DEMO)/stripe/invoices.jsonl --title "Customer-success report from the Stripe export" --out $(DEMO)/stripe-report.html
	@echo "The report: open file://$(CURDIR)/$(DEMO)/report.html in a browser (and stripe-report.html, from the Stripe export)."

report-check: demo ## render the demo report in headless Chromium to out/demo/report.png and check it is not blank
	MPLBACKEND=Agg $(VENV)/bin/python -m pytest -q tests/test_report.py -k chromium
	MPLBACKEND=Agg $(VENV)/bin/python tests/test_report.py $(DEMO)/report.html $(DEMO)/report.png

test-rust: ## cargo tests of the core (unit, integration, doctests) and its Python-free check
	cargo test -p csmetrics
	cargo run -q -p csmetrics --example mrr_bridge
	cargo run -q -p csmetrics --example churn
	cargo run -q -p csmetrics --example kaplan_meier
	cargo run -q -p csmetrics --example bgnbd_clv
	@if cargo tree -p csmetrics -e normal | grep -q pyo3; then echo "the core crate depends on pyo3"; exit 1; fi

test-python: wheel $(COMPAT)/.ready ## pytest and doctests on the newest and the lowest Python polars
	$(VENV)/bin/python -m pytest -q tests --ignore=tests/reference
	$(VENV)/bin/python -m pytest -q --doctest-modules --pyargs csmetrics
	$(COMPAT)/bin/pip install -q --force-reinstall --no-deps $(WHEELS)/*.whl
	$(COMPAT)/bin/python -m pytest -q tests --ignore=tests/reference
	$(COMPAT)/bin/python -m pytest -q --doctest-modules --pyargs csmetrics

test-reference: wheel $(REF)/.ready ## survival estimates against lifelines, sentiment against vaderSentiment (their own environment: pandas < 3)
	$(REF)/bin/pip install -q --force-reinstall --no-deps $(WHEELS)/*.whl
	$(REF)/bin/python -m pytest -q tests/reference

test: test-rust test-python test-reference test-notebooks test-docs ## everything: cargo tests, pytest, doctests, README examples, notebooks, docs, both polars versions

test-notebooks: wheel ## execute copies of the notebooks in a temporary directory (the tracked files stay as they are)
	MPLBACKEND=Agg $(VENV)/bin/python notebooks/run.py --copy

# The site reads the sources statically (no build of the module needed); warnings are errors.
docs: $(DOCS)/.ready ## build the documentation site into out/docs (mkdocs --strict) and check its links
	NO_MKDOCS_2_WARNING=1 $(DOCS)/bin/mkdocs build --strict --site-dir out/docs
	$(DOCS)/bin/python docs/check_site.py out/docs

test-docs: docs ## the documentation build and its link and API-coverage check

notebooks: wheel ## re-execute the notebooks in place, writing their outputs
	MPLBACKEND=Agg $(VENV)/bin/python notebooks/run.py --in-place

# Options for every benchmark script, e.g. BENCH_ARGS="--sizes 1000000 --keys string --repeat 1".
BENCH_ARGS ?=
bench: $(REF)/.ready $(LIFETIMES)/.ready ## benchmarks against idiomatic Polars, pandas, lifelines and lifetimes (fat-LTO build; BENCH_ARGS)
	$(MAKE) wheel PROFILE=dist
	$(VENV)/bin/python bench/bench_survey.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_revenue.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_billing.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_invoices.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_stripe.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_cohort.py $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_survival.py --reference-python $(REF)/bin/python $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_clv.py --lifetimes-python $(LIFETIMES)/bin/python $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_feedback.py --reference-python $(REF)/bin/python $(BENCH_ARGS)
	$(VENV)/bin/python bench/bench_journey.py $(BENCH_ARGS)

# The bounded fuzz suite runs in `make test`; this is the long one (FUZZ_EXAMPLES per function).
FUZZ_EXAMPLES ?= 400
fuzz: wheel ## the long fuzz suite: every public function on random frames (CSMETRICS_FUZZ=long)
	CSMETRICS_FUZZ=long CSMETRICS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) MPLBACKEND=Agg $(VENV)/bin/python -m pytest -q tests/test_fuzz.py

# stubtest compares python/csmetrics/_internal.pyi with the compiled module: the wheel first.
lint: wheel ## rustfmt, clippy, ruff, mypy, and the extension's stub against the built module (stubtest)
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(call pip_install,$(VENV),-r requirements/lint.txt)
	$(VENV)/bin/ruff check python tests bench
	$(VENV)/bin/ruff format --check python tests bench
	$(VENV)/bin/mypy python/csmetrics
	$(VENV)/bin/python -m mypy.stubtest csmetrics._internal

fmt: ## format Rust and Python sources
	cargo fmt --all
	$(VENV)/bin/ruff format python tests bench

clean: ## remove the virtual environments (the Cargo cache stays in ~/.cache)
	rm -rf $(VENV) $(COMPAT) $(REF) $(LIFETIMES) $(DOCS)
