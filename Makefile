# The two commands of the README: `make dev` (the local stack) and `make test` (the whole suite).
SHELL := /bin/bash
CARGO ?= cargo
export VIVID_PORT ?= 3000

.PHONY: dev test venv deps lint fmt build

venv:
	@scripts/venv.sh

## make deps: the pinned Python tools in .venv and ffmpeg.
deps:
	@scripts/deps.sh

## make dev: the local stack on 127.0.0.1:$(VIVID_PORT) (gateway + emulator); Ctrl-C stops it.
dev: deps
	$(CARGO) run --quiet -p vivid-local

## make test: format, lints, template lint and every test, each against an emulator of its own.
# cargo-nextest when present (one summary line, tests in parallel processes), else cargo test.
# moto's transactions are not isolated across concurrent requests (a cancelled one restores every
# table), so tests do not share an emulator: each test's stack starts its own moto.
test: deps lint
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --no-fail-fast --failure-output final; \
	else \
	  $(CARGO) test --workspace --all-targets --no-fail-fast; \
	fi

lint: venv
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	.venv/bin/cfn-lint template.yaml

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace
