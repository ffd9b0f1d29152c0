# The lab's two commands: `make lab` and `make test`. Everything they need is
# set up here from the pinned lock; nothing is assumed to be installed globally.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian's interpreter, not pyenv's: a venv made from /root/.pyenv cannot be
# executed by the lab's system users (see docs/operations.md).
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
LOCK := requirements/lab.lock
LOCK_HASH := $(shell sha256sum $(LOCK) 2>/dev/null | cut -c1-12)
# As root the venv lives where every lab user can execute it. It is keyed by the
# checkout (dlclab is installed editable from it, so two checkouts must not share one)
# and by the lock (a changed lock builds a fresh venv, an unchanged one is reused).
ifeq ($(shell id -u),0)
PREFIX ?= /opt/dlclab
else
PREFIX ?= $(CURDIR)/.lab
endif
CHECKOUT_HASH := $(shell echo $(CURDIR) | sha256sum | cut -c1-8)
VENV_DIR := $(PREFIX)/venv-$(CHECKOUT_HASH)-$(LOCK_HASH)
VENV := $(CURDIR)/.venv
PY := $(VENV)/bin/python
DLCLAB := $(VENV)/bin/dlclab
DATA ?= $(CURDIR)/data
PYTEST_ARGS ?=

.PHONY: help setup venv node browser xrootd sandbox slurm data lab test bench lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV_DIR)/.complete: $(LOCK)
	@echo ">> building the venv $(VENV_DIR) from $(LOCK)"
	@mkdir -p $(PREFIX)
	$(PYTHON) -m venv $(VENV_DIR)
	$(VENV_DIR)/bin/pip install -q --upgrade pip
	$(VENV_DIR)/bin/pip install -q -r $(LOCK)
	@chmod -R a+rX $(PREFIX)
	@touch $@

$(VENV): $(VENV_DIR)/.complete
	ln -sfn $(VENV_DIR) $(VENV)

venv: $(VENV) ## the pinned venv (.venv links to it) with dlclab installed editable
	@$(VENV)/bin/pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1
	@# Lab users' servers import dlclab from this checkout (and read data/ below it), so
	@# as root they must be able to traverse to it. A closed ancestor (/root, a home) is
	@# not opened silently: that would expose every readable file below it to every lab
	@# user. Refuse and say what to do; TRAVERSE=yes opens exactly the listed folders (o+x).
	@if [ "$$(id -u)" = 0 ]; then d="$(CURDIR)"; closed=; while [ "$$d" != / ]; do \
	  if [ "$$(( 0$$(stat -c %a "$$d") & 1 ))" = 0 ]; then closed="$$closed $$d"; fi; \
	  d=$$(dirname "$$d"); done; \
	  if [ -n "$$closed" ] && [ "$(TRAVERSE)" = yes ]; then for d in $$closed; do chmod o+x "$$d" && echo ">> made $$d traversable for lab users (o+x), as TRAVERSE=yes asked"; done; \
	  elif [ -n "$$closed" ]; then echo "error: lab users cannot reach this checkout ($(CURDIR)): not traversable by others:$$closed" >&2; \
	    echo "  move the checkout below a folder they may traverse (e.g. /srv/dlclab/src or /opt), or run" >&2; \
	    echo "  'make TRAVERSE=yes ...' to give exactly those folders o+x (anything readable below them becomes reachable)" >&2; exit 1; fi; fi

node: ## npm tools pinned in package-lock.json (the Kaitai compiler used as a test oracle)
	@if [ -f package-lock.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund --silent && touch node_modules; fi; \
	fi

browser: ## Debian's Chromium for the browser tests (no browser download)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: sudo apt-get install chromium" >&2; exit 1; fi; \
	fi

xrootd: ## Debian's XRootD server for the storage instances (docs/storage.md)
	@if [ ! -x /usr/bin/xrootd ] || [ ! -x /usr/bin/xrdfs ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xrootd-server xrootd-client >/dev/null; \
	  else echo "XRootD is missing: sudo apt-get install xrootd-server xrootd-client" >&2; exit 1; fi; \
	fi

sandbox: ## Debian's bubblewrap: autograde runs students' code in it (docs/courses.md)
	@if [ ! -x /usr/bin/bwrap ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; \
	  else echo "bubblewrap is missing: sudo apt-get install bubblewrap" >&2; exit 1; fi; \
	fi

# No init here: a policy-rc.d keeps the packages from starting daemons (the lab and the
# tests start their own); removed again unless it was there before.
slurm: ## Debian's Slurm and munge for the batch deployment and its tests (docs/batch.md)
	@if [ ! -x /usr/sbin/slurmctld ] || [ ! -x /usr/sbin/slurmd ] || [ ! -x /usr/sbin/munged ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    rc=/usr/sbin/policy-rc.d; made=; if [ ! -e $$rc ]; then printf '#!/bin/sh\nexit 101\n' > $$rc; chmod 755 $$rc; made=1; fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null; st=$$?; \
	    if [ -n "$$made" ]; then rm -f $$rc; fi; exit $$st; \
	  else echo "Slurm is missing: sudo apt-get install slurm-wlm munge" >&2; exit 1; fi; \
	fi

setup: venv node browser xrootd sandbox slurm ## everything the lab and the tests need

data: venv ## build the sample releases, the Intake catalogues and the meta-data catalogue under data/
	$(DLCLAB) sample --data-root $(DATA)
	@# The meta-data catalogue (collaboration-internal rows, users' export requests) is
	@# private: created 0700/0600 (umask 077 and dlclab's own modes, never chmod'ed after).
	@# Once the lab has handed data/metadata to the aggregation service's account, root
	@# writes it as that account (never works in a folder another account controls).
	@# (A folder an older checkout left open is closed before anything is written.)
	@umask 077; owner=$$(stat -c %U $(DATA)/metadata 2>/dev/null || echo root); \
	if [ -d $(DATA)/metadata ] && [ ! -L $(DATA)/metadata ] && [ "$$owner" = "$$(id -un)" ]; then chmod go= $(DATA)/metadata; fi; \
	as=; if [ "$$(id -u)" = 0 ] && [ "$$owner" != root ]; then as="runuser -u $$owner --"; \
	  echo ">> writing the meta-data catalogue as $$owner (the owner of $(DATA)/metadata)"; fi; \
	echo "$(DLCLAB) extract ..."; \
	$$as env DLCLAB_DATA_ROOT=$(DATA) $(DLCLAB) extract --no-progress \
	  taiga=$(DATA)/raw/taiga kcdc=$(DATA)/raw/kcdc releases=$(DATA)/releases

lab: setup data ## serve the lab on http://127.0.0.1:8000 (DEMO=1: demo users and course; BATCH=slurm: on Slurm)
	$(DLCLAB) lab --data-root $(DATA) $(if $(DEMO),--demo,) $(if $(BATCH),--batch $(BATCH),)

test: setup data ## set up as `make lab` does, then run the whole test suite
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup data ## run every benchmark side by side with its competitor and print the ratios
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lock: ## re-resolve requirements/lab.in into the lock
	rm -rf $(PREFIX)/lockvenv && $(PYTHON) -m venv $(PREFIX)/lockvenv
	$(PREFIX)/lockvenv/bin/pip install -q --upgrade pip && $(PREFIX)/lockvenv/bin/pip install -q -r requirements/lab.in
	( echo "# Generated by 'make lock' from requirements/lab.in. Do not edit by hand."; \
	  $(PREFIX)/lockvenv/bin/pip freeze --all | grep -v -E '^pip==' ) > $(LOCK)

clean: ## remove generated data and the venv link (the venv itself stays for reuse)
	rm -rf $(DATA) $(VENV) node_modules
