# Set-up and everyday jobs. Every target is idempotent: the virtual environment is created
# and installed once (a stamp file records it) and reused until pyproject or the pins change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    := out

.PHONY: all demo test lint bench fuzz fuzz-lsp fuzz-valid fuzz-atheris images graphviz neovim editors editors-deps vsix clean
VSCODE := editors/vscode

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

# Neovim, for the test that runs a real editor against `archdsl lsp`; installed like graphviz.
neovim:
	@command -v nvim >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && apt-get install -y -qq neovim >/dev/null) \
	      || echo "note: could not install neovim; its test is skipped"; \
	  else \
	    echo "note: 'nvim' not found; the Neovim test is skipped (apt-get install neovim)"; \
	  fi; }

# The VS Code extension's npm packages (vscode-textmate and vscode-oniguruma tokenise in the
# tests, @vscode/vsce packages), pinned by package-lock.json; skipped without npm.
$(VSCODE)/node_modules/.package-lock.json: $(VSCODE)/package.json $(VSCODE)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  (cd $(VSCODE) && npm ci --no-audit --no-fund --loglevel=error) \
	    || echo "note: npm ci failed; the editor tests that need it are skipped"; \
	else echo "note: npm not found; the highlighting and .vsix tests are skipped"; fi

editors-deps: $(VSCODE)/node_modules/.package-lock.json

# The TextMate grammar and the Vim syntax file, generated from the Lark grammar and the registry.
editors: $(STAMP)
	$(BIN)/python -m archdsl.textmate $(VSCODE)/syntaxes/arch.tmLanguage.json
	$(BIN)/python -m archdsl.textmate --vim editors/nvim/syntax/arch.vim

vsix: editors editors-deps
	@mkdir -p $(OUT)
	cd $(VSCODE) && ./node_modules/.bin/vsce package --allow-missing-repository \
	  --out ../../$(OUT)/archdsl.vsix

demo: $(STAMP) graphviz
	@mkdir -p $(OUT)
	$(BIN)/archdsl check architectures/lenet5.arch
	$(BIN)/archdsl summary lenet5
	$(BIN)/archdsl summary resnet50 --depth 2
	$(BIN)/archdsl draw lenet5 -o $(OUT)/lenet5.dot
	-$(BIN)/archdsl draw lenet5 -o $(OUT)/lenet5.svg
	$(BIN)/archdsl compile lenet5 -o $(OUT)/lenet5.py
	$(BIN)/python $(OUT)/lenet5.py

test: $(STAMP) graphviz neovim editors-deps
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/archdsl fmt --check architectures/*.arch examples/*.arch

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

fuzz-lsp: $(STAMP)
	$(BIN)/python -m tests.lsp.fuzz --cases 20000

# Random valid programs through every back end (tests/fuzz/valid.py); failures are shrunk and
# written to tests/fuzz/valid_cases/. `make fuzz-valid PROGRAMS=500 SEED=3 JOBS=4`.
PROGRAMS ?= 10000
SEED     ?= 0
JOBS     ?= 2
fuzz-valid: $(STAMP) graphviz
	$(BIN)/python -m tests.fuzz.valid --programs $(PROGRAMS) --seed $(SEED) --jobs $(JOBS) --save

# Coverage-guided fuzzing of the front end (tests/fuzz/atheris_target.py): RUNS inputs, from the
# zoo and the error files, with the language's tokens as a dictionary. A crash (an exception
# that is not an ArchError, a case over 2 s) is saved as $(OUT)/fuzz-atheris/crash-*.
# ATHERIS_TIMEOUT is libFuzzer's wall-clock limit per input, a backstop only: the target itself
# fails an input over 2 s of CPU, which load on a shared machine does not inflate.
RUNS ?= 100000
ATHERIS_TIMEOUT ?= 20
ATHERIS := $(OUT)/fuzz-atheris
fuzz-atheris: $(STAMP)
	@mkdir -p $(ATHERIS)
	$(BIN)/python -m tests.fuzz.atheris_target --prepare $(ATHERIS)
	ARCHDSL_FUZZ_STATS=$(ATHERIS)/stats.json $(BIN)/python -m tests.fuzz.atheris_target \
	  -runs=$(RUNS) -dict=$(ATHERIS)/archdsl.dict -timeout=$(ATHERIS_TIMEOUT) -rss_limit_mb=2048 \
	  -max_len=65536 -print_final_stats=1 -artifact_prefix=$(ATHERIS)/ $(ATHERIS)/corpus
	@cat $(ATHERIS)/stats.json 2>/dev/null || true

clean:
	rm -rf $(VENV) $(OUT) build dist *.egg-info $(VSCODE)/node_modules
