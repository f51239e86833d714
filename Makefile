# Social work workforce pressure and Ofsted ratings: build entry points.
#
#   make help     list every target (one line each)
#   make report   build the report: _output/report-v<version>.html and .pdf
#                 cold from the committed panel: about 27 s of CPU on 2 cores (models ~12 s of it;
#                 target 10 s wall, not met), no-op 0.04 s, prose edit ~4.4 s of CPU (the render)
#                 (make bench-report, 2026-12-04, shared machine: it reports CPU beside wall time)
#   V=1           show every command's output (default: one progress line per step)
#   RENDER_ENGINE=auto|quarto|lite   auto: Quarto if on PATH (a Quarto failure is an error)
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
# each step's target is the manifest it writes last (sha256 of every file of its set, analysis/fileio.py):
# an interrupted step leaves no manifest, so it is re-run, never read as complete
RESULTS := report/outputs/results/manifest.json
OUTPUT_STAMP := report/outputs/manifest.json
OUTPUT_CODE := $(wildcard analysis/outputs/*.py) data/reference/literature.yml data/reference/missing_reasons.csv data/reference/spend_exclusions.csv data/sources.toml data/derived/data_dictionary.csv
RENDER_CODE := $(wildcard analysis/render/*.py)
QMD := _quarto.yml $(wildcard report/*.qmd report/*.css report/*.typ report/*.csl) report/references.bib
HTML := _output/report-v$(VERSION).html
PDF := _output/report-v$(VERSION).pdf
RELEASE_DIR := releases/v$(VERSION)
# auto: Quarto if on PATH, else the in-project pandoc + typst renderer; or quarto / lite
RENDER_ENGINE ?= auto
DERIVED := $(wildcard data/derived/*.csv) data/derived/manifest.json
MODEL_CODE := $(wildcard analysis/models/*.py) analysis/run_models.py

.PHONY: all setup test data data-check results outputs report release bench bench-report clean clean-env help FORCE
all: report ## same as `make report`

V ?= 0
LOGDIR := _build/logs
# $(call step,name,command): run a step quietly (its output in _build/logs/<name>.log; all of it
# with V=1) and print one progress line with the elapsed time; on failure, the log's tail.
# A log that cannot be written (read-only checkout, disk full) is replaced by a temporary one, so
# that the tail shown after FAILED is this run's, never the previous run's success line.
define step
@mkdir -p $(LOGDIR) 2>/dev/null; t0=$$(date +%s%N); log=$(LOGDIR)/$(1).log; \
if [ "$(V)" = 1 ]; then ( $(2) ) || exit 1; \
else if ! { : > $$log; } 2>/dev/null; then log=$$(mktemp "$${TMPDIR:-/tmp}/$(1)-log.XXXXXX"); \
  echo "$(1): cannot write $(LOGDIR)/$(1).log (read-only checkout or disk full?); logging to $$log"; fi; \
( $(2) ) > $$log 2>&1 || { echo "$(1): FAILED (full log: $$log)"; tail -n 15 $$log; exit 1; }; fi; \
printf '%-9s done in %5.1f s\n' "$(1)" "$$(awk -v a=$$t0 -v b=$$(date +%s%N) 'BEGIN {print (b - a) / 1e9}')"
endef

help: ## list every target with one line each
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) ## create .venv from the lock file (private uv in .tools/)

$(UV):
	$(call step,uv,$(PYTHON_BOOT) -m venv .tools && .tools/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)")

# --compile-bytecode: byte-compile the packages once, so imports stay fast where Python may not
# write .pyc files (PYTHONDONTWRITEBYTECODE); run_models spends most of its time importing otherwise
$(STAMP): pyproject.toml uv.lock | $(UV)
	$(call step,setup,$(UV) sync --frozen --compile-bytecode --python $(PYTHON_BOOT) $(if $(filter 1,$(V)),,--quiet))
	@touch $@

test: $(STAMP) ## run the test suite
	$(PY) -m pytest

# Derived data are committed; `make data` rebuilds them explicitly (raw files needed).
data: $(STAMP) ## rebuild data/derived/ from the raw files (CSC_DATA_MIRROR or internet)
	$(call step,data,$(PY) -m analysis.data.build)

data-check: $(STAMP) ## check that the raw files rebuild the committed derived data
	$(PY) -m analysis.data.build --check

# Models: re-fitted only when the derived data or the model code change.
results: $(RESULTS) ## fit the models (when data or model code changed)
$(RESULTS): $(DERIVED) $(MODEL_CODE) | $(STAMP)
	$(call step,models,$(PY) -m analysis.cli models)

# Figures, tables and in-text numbers: rebuilt when data, model or output code change. ONE process
# fits the models first when the results are missing, incomplete or older than their inputs
# (analysis/cli.py), so the model and output stacks are imported once (a cold build's largest
# saving); the step is then named "build", else "outputs".
outputs: $(OUTPUT_STAMP) ## figures, tables and the numbers quoted in the text
$(OUTPUT_STAMP): $(DERIVED) $(MODEL_CODE) $(OUTPUT_CODE) | $(STAMP)
	$(call step,$(if $(filter $(DERIVED) $(MODEL_CODE),$?),build,outputs),$(PY) -m analysis.cli build)

# Rendering: a prose edit re-runs only this step (Quarto if on PATH, else pandoc + typst).
# The engine actually used (auto resolved here) and the commit are part of the out-of-date test:
# each stamp file changes only when its value changes, so switching RENDER_ENGINE re-renders.
ENGINE := $(if $(filter auto,$(RENDER_ENGINE)),$(if $(shell command -v quarto 2>/dev/null),quarto,lite),$(RENDER_ENGINE))
ENGINE_STAMP := _build/render-engine
COMMIT_STAMP := _build/render-commit
$(ENGINE_STAMP): FORCE
	@mkdir -p _build; [ "$$(cat $@ 2>/dev/null)" = "$(ENGINE)" ] || echo "$(ENGINE)" > $@
$(COMMIT_STAMP): FORCE
	@mkdir -p _build; c="$$(git rev-parse HEAD 2>/dev/null)$$(git status --porcelain --untracked-files=no 2>/dev/null | md5sum)"; \
	[ "$$(cat $@ 2>/dev/null)" = "$$c" ] || echo "$$c" > $@

report: $(HTML) $(PDF) ## render the report (HTML + PDF) with RENDER_ENGINE
$(HTML) $(PDF) &: $(OUTPUT_STAMP) $(QMD) $(RENDER_CODE) $(ENGINE_STAMP) $(COMMIT_STAMP) | $(STAMP)
	$(call step,report,$(PY) -m analysis.cli render --engine $(ENGINE))
	@grep -E '^(rendered|render: )' $(LOGDIR)/report.log 2>/dev/null || true

# A citable release: versioned folder with HTML, PDF, results and a sha256 manifest.
release: report ## releases/v<version>/ + deposit archive; refuses a dirty tree
	$(PY) -m analysis.release --version $(VERSION)

bench: $(STAMP) ## time the model fits
	$(PY) -m analysis.benchmark_models

bench-report: $(STAMP) ## time the report build and the render engines
	$(PY) -m analysis.benchmark_report

clean: ## remove build products (_output, _build, report/outputs, _variables.yml)
	rm -rf _output _build report/outputs _variables.yml .quarto

clean-env: ## remove .venv and .tools
	rm -rf .venv .tools
