# MammoBench developer entry points. `make run` and `make test` work on a fresh machine:
# each creates .venv and installs what it needs (torch/torchvision pinned; pip only).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: run smoke test test-all fuzz perf browser-deps clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

## run: the main job: quick suite on the built-in virtual cohort; prints where the report is
run: $(STAMP)
	$(VENV)/bin/mammobench run

smoke: $(STAMP)
	$(VENV)/bin/mammobench run --profile smoke

## browser-deps: Debian's chromium for the browser tests (report, reader app, leaderboard)
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "warning: could not install chromium; browser tests will be skipped"; \
	  else echo "warning: chromium not installed and not root; browser tests will be skipped"; fi; }

## test: the default suite (smoke profile, every feature, no GPU, offline)
test: $(STAMP) browser-deps
	$(PY) -m pytest -q

test-all: $(STAMP) browser-deps
	$(PY) -m pytest -q -m "slow or not slow"

fuzz: $(STAMP)
	$(PY) -m pytest -q -m fuzz

perf: $(STAMP)
	$(VENV)/bin/mammobench perf

clean:
	rm -rf runs .pytest_cache
