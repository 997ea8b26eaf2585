# tinyengine-compiler: `make test`, `make demo`, `make examples`, `make clean`.
# Works from a source checkout with or without `pip install -e .`: the CLI runs as a module.

# By default everything runs in a virtualenv of the repo, .venv, made with python3 (Debian:
# python3-venv) and sharing its site packages; the system Python gets nothing installed.
# `make PYTHON=/path/to/python ...` uses that interpreter's environment instead (a PYTHON
# variable in the environment does not: it would install into the system Python unasked).
VENV := .venv
# The Python packages (pip install -e '.[test]'), installed once into $(PYTHON)'s environment
# so that `make demo` and `make test` are the only two commands a fresh machine needs: a stamp
# inside the venv (deleting .venv reinstalls), or one per interpreter given.
ifneq ($(origin PYTHON),command line)
PYTHON := $(VENV)/bin/python
PYTHON_SETUP := $(VENV)/pyvenv.cfg
DEPS_STAMP := $(VENV)/.deps-installed
else
PYTHON_SETUP :=
DEPS_STAMP := .deps-installed-$(subst /,_,$(PYTHON))
endif
TTE ?= $(PYTHON) -m tinyengine_compiler.cli
MODELS := examples/models
# One stamp for the whole build: build_models writes every model in one run.
MODELS_STAMP := $(MODELS)/.built
DEMO_MODEL := $(MODELS)/mcunet-5fps-int8.onnx
DEMO_IMAGE := $(MODELS)/example-image.npy

.PHONY: test demo examples deps clean

deps: $(DEPS_STAMP)

# a venv that python3 could not finish (no ensurepip: Debian without python3-venv) is removed,
# so that the next make tries again
$(VENV)/pyvenv.cfg:
	python3 -m venv --system-site-packages $(VENV) || { rm -rf $(VENV); \
	    echo "error: python3 -m venv failed; on Debian: apt install python3-venv" >&2; exit 1; }

$(DEPS_STAMP): pyproject.toml setup.py $(PYTHON_SETUP)
	$(PYTHON) -m pip install --progress-bar off -q -e '.[test]'
	touch $@

test: $(DEPS_STAMP)
	$(PYTHON) -m pytest -q -rs tests

examples: $(MODELS_STAMP)

$(MODELS_STAMP): $(DEPS_STAMP) examples/build_models.py examples/architectures.py tinyengine_compiler/quantize.py
	$(PYTHON) -m examples.build_models --out $(MODELS)
	touch $@

# The main job on the example MCUNet-5FPS: its layers, one int8 inference, the pruned training
# graph of TinyEngine's demo scheme (10 classes), and the C training engine of that scheme under
# the F746's 256 KB budget, written to out/demo (C, tte.mk, tte.cmake, memory.{json,md,svg}).
demo: $(MODELS_STAMP)
	$(TTE) inspect $(DEMO_MODEL)
	$(TTE) run $(DEMO_MODEL) --input $(DEMO_IMAGE)
	$(TTE) graph $(DEMO_MODEL) --update sparse_49kb --num-classes 10 --json
	$(TTE) compile $(DEMO_MODEL) --update sparse_49kb --num-classes 10 --budget 256KB -o out/demo

clean:
	rm -rf $(MODELS) .deps-installed* $(VENV) build dist *.egg-info tinyengine_compiler/_data .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
