# Set-up and everyday jobs. Every target is idempotent: the virtual environment is created
# and installed once (a stamp file records it) and reused until pyproject or the pins change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    := out

.PHONY: all demo test lint bench fuzz fuzz-atheris images graphviz clean

all: demo

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

# Debian's graphviz gives the `dot` program; install it when missing and we can (root + apt).
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) \
	      || echo "note: could not install graphviz; diagrams fall back to .dot text"; \
	  else \
	    echo "note: 'dot' not found; install graphviz (apt-get install graphviz) for SVG/PNG"; \
	  fi; }

demo: $(STAMP) graphviz
	@mkdir -p $(OUT)
	$(BIN)/archdsl check architectures/lenet5.arch
	$(BIN)/archdsl summary lenet5
	$(BIN)/archdsl summary resnet50 --depth 2
	$(BIN)/archdsl draw lenet5 -o $(OUT)/lenet5.dot
	-$(BIN)/archdsl draw lenet5 -o $(OUT)/lenet5.svg
	$(BIN)/archdsl compile lenet5 -o $(OUT)/lenet5.py
	$(BIN)/python $(OUT)/lenet5.py

test: $(STAMP) graphviz
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/archdsl fmt --check architectures/*.arch

bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(BENCH)

# The README's diagrams, drawn by archdsl itself (needs Graphviz's dot).
images: $(STAMP) graphviz
	@mkdir -p docs/images
	$(BIN)/archdsl draw lenet5 -o docs/images/lenet5.png
	$(BIN)/archdsl draw googlenet --focus inception3a --merge-chains -o docs/images/inception3a.png
	$(BIN)/archdsl draw resnet50 --depth 2 -o docs/images/resnet50-depth2.png

fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.mutate --cases 100000 --save $(OUT)/fuzz

# Coverage-guided fuzzing of the front end (tests/fuzz/atheris_target.py): RUNS inputs, from the
# zoo and the error files, with the language's tokens as a dictionary. A crash (an exception
# that is not an ArchError, a case over 2 s) is saved as $(OUT)/fuzz-atheris/crash-*.
RUNS ?= 100000
ATHERIS := $(OUT)/fuzz-atheris
fuzz-atheris: $(STAMP)
	@mkdir -p $(ATHERIS)
	$(BIN)/python -m tests.fuzz.atheris_target --prepare $(ATHERIS)
	ARCHDSL_FUZZ_STATS=$(ATHERIS)/stats.json $(BIN)/python -m tests.fuzz.atheris_target \
	  -runs=$(RUNS) -dict=$(ATHERIS)/archdsl.dict -timeout=20 -rss_limit_mb=2048 \
	  -max_len=65536 -print_final_stats=1 -artifact_prefix=$(ATHERIS)/ $(ATHERIS)/corpus
	@cat $(ATHERIS)/stats.json 2>/dev/null || true

clean:
	rm -rf $(VENV) $(OUT) build dist *.egg-info
