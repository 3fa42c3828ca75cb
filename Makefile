# Quick start on a fresh machine:  `make suite` runs the quick tier of the suite here; `make test` runs the tests.
# Each creates .venv and installs what it needs (torch: the CPU wheel 2.13.0 when no torch is present).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra arguments for snakemake / pytest, e.g.  make suite ARGS="--config tier=smoke"; the tests run on two
# processes (pytest-xdist; a process out of tests takes queued ones from the other), e.g.
# make test PYTEST_ARGS="-n 8 --dist worksteal"  on a larger machine
ARGS ?=
PYTEST_ARGS ?= -n 2 --dist worksteal

.PHONY: install suite test lint report clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

# The quick tier reads the official MNIST files (hinton_forward_forward): fetched into the data directory unless
# they are there with their official checksums.
suite: $(STAMP)
	$(BIN)/reprosuite data fetch mnist
	$(BIN)/snakemake $(ARGS)

# The tests that read the official MNIST (and the dry runs of the quick tier, which need it present) skip, naming
# the reason, where it could not be fetched.
test: $(STAMP)
	$(BIN)/reprosuite data fetch mnist || echo "MNIST not fetched: the tests that need it will skip"
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/snakemake --lint

report: $(STAMP)
	$(BIN)/snakemake --report results/report.html $(ARGS)

clean:
	rm -rf results .snakemake
