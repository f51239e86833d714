# Social work workforce pressure and Ofsted ratings: build entry points.
#
#   make report   set up the environment if needed, then build the report (HTML + PDF)
#   make release  write releases/v<version>/ (HTML, PDF, results, SHA256SUMS); never overwrites
#   make test     set up the environment if needed, then run the test suite
#   make data     rebuild data/derived/ from the raw sources (needs CSC_DATA_MIRROR or internet)
#
# The environment is bootstrapped from the lock file: a private uv in .tools/, then
# `uv sync --frozen` into .venv/. Nothing else needs installing by hand (Python 3.11 must exist).

SHELL := /bin/bash
PYTHON_BOOT ?= python3.11
UV_VERSION := 0.13.8
UV := .tools/bin/uv
PY := .venv/bin/python
STAMP := .venv/.synced

# default mirror of the raw files: ../shared/data beside the repository, if present
ifeq ($(origin CSC_DATA_MIRROR), undefined)
  ifneq ($(wildcard ../shared/data),)
    export CSC_DATA_MIRROR := $(abspath ../shared/data)
  endif
endif

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
RESULTS := report/outputs/results/results.json
OUTPUT_STAMP := report/outputs/.stamp
OUTPUT_CODE := $(wildcard analysis/outputs/*.py) data/reference/literature.yml data/sources.toml data/derived/data_dictionary.csv
RENDER_CODE := $(wildcard analysis/render/*.py)
QMD := _quarto.yml $(wildcard report/*.qmd) report/references.bib report/style.css
HTML := _output/report-v$(VERSION).html
PDF := _output/report-v$(VERSION).pdf
RELEASE_DIR := releases/v$(VERSION)
# auto: Quarto if on PATH, else the in-project pandoc + typst renderer; or quarto / lite
RENDER_ENGINE ?= auto
DERIVED := $(wildcard data/derived/*.csv) data/derived/manifest.json
MODEL_CODE := $(wildcard analysis/models/*.py) analysis/run_models.py

.PHONY: all setup test data data-check results outputs report release bench bench-report clean clean-env help
all: report

help:
	@sed -n '3,8p' Makefile

setup: $(STAMP)

$(UV):
	$(PYTHON_BOOT) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode: byte-compile the packages once, so imports stay fast where Python may not
# write .pyc files (PYTHONDONTWRITEBYTECODE); run_models spends most of its time importing otherwise
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON_BOOT)
	@touch $@

test: $(STAMP)
	$(PY) -m pytest

# Derived data are committed; `make data` rebuilds them explicitly (raw files needed).
data: $(STAMP)
	$(PY) -m analysis.data.build

data-check: $(STAMP)
	$(PY) -m analysis.data.build --check

# Models: re-fitted only when the derived data or the model code change.
results: $(RESULTS)
$(RESULTS): $(DERIVED) $(MODEL_CODE) | $(STAMP)
	$(PY) -m analysis.run_models

# Figures, tables and in-text numbers: rebuilt when results, data or output code change.
outputs: $(OUTPUT_STAMP)
$(OUTPUT_STAMP): $(RESULTS) $(DERIVED) $(OUTPUT_CODE) | $(STAMP)
	$(PY) -m analysis.outputs.build
	@touch $@

# Rendering: a prose edit re-runs only this step (Quarto if on PATH, else pandoc + typst).
report: $(HTML) $(PDF)
$(HTML) $(PDF) &: $(OUTPUT_STAMP) $(QMD) $(RENDER_CODE) | $(STAMP)
	$(PY) -m analysis.outputs.buildinfo
	$(PY) -m analysis.render --engine $(RENDER_ENGINE)

# A citable release: versioned folder with HTML, PDF, results and a sha256 manifest.
release: report
	$(PY) -m analysis.release --version $(VERSION)

bench: $(STAMP)
	$(PY) -m analysis.benchmark_models

bench-report: $(STAMP)
	$(PY) -m analysis.benchmark_report

clean:
	rm -rf _output _build report/outputs _variables.yml

clean-env:
	rm -rf .venv .tools
