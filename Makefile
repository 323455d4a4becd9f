# The two commands of the README: `make dev` (the local stack) and `make test` (the whole suite).
SHELL := /bin/bash
CARGO ?= cargo
export VIVID_PORT ?= 3000
# A CI run builds once from scratch: incremental state would only take disk (about 8 GB here).
ifdef CI
export CARGO_INCREMENTAL ?= 0
endif

.PHONY: dev test test-browser venv deps lint lint-template fmt build

venv:
	@scripts/venv.sh

## make deps: the pinned Python tools in .venv and ffmpeg.
deps:
	@scripts/deps.sh

## make dev: the local stack on 127.0.0.1:$(VIVID_PORT) (gateway + emulator) and the study page
# (web/) on http://localhost:5173 (VIVID_FRONTEND_ORIGIN; README, "The study page"); Ctrl-C stops it.
# Installs only what the stack runs on (scripts/deps.sh --stack: moto and pocketsphinx in .venv,
# ffmpeg), then builds it with cargo's progress shown, then starts it.
dev:
	@scripts/deps.sh --stack
	@echo "make dev: building the local stack (cargo build -p vivid-local; the first build compiles the workspace)"
	@$(CARGO) build -p vivid-local
	@$(CARGO) run --quiet -p vivid-local

## make test: format, lints, template lint and every test, each against an emulator of its own;
# then the README's examples (make test-readme), the contract check (make test-contract), the
# browser test and schemathesis (all but the contract check on a local stack of their own).
# cargo-nextest when present (one summary line, tests in parallel processes), else cargo test.
# moto's transactions are not isolated across concurrent requests (a cancelled one restores every
# table), so tests do not share an emulator: each test's stack starts its own moto.
test: deps lint
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --workspace --no-fail-fast --failure-output final; \
	else \
	  $(CARGO) test --workspace --all-targets --no-fail-fast; \
	fi
	@scripts/readme-test.sh
	@scripts/contract.sh
	@scripts/browser-test.sh
	@scripts/schemathesis.sh

## make test-readme: README.md's shell examples, in order, against a fresh local stack on a free
# port (tests/readme/run.py: each block's exit status, HTTP status and JSON as its comment says);
# API=http://127.0.0.1:3000 make test-readme runs them against a stack you already run.
.PHONY: test-readme
test-readme:
	@scripts/readme-test.sh

## make test-contract: docs/openapi.yaml as a front end meets it, without a stack (scripts/contract.sh,
# tests/contract/): TypeScript types generated from it and a study flow compiled against them with
# tsc --strict (no cast, no !) and run against a mock of the document (prism: each answer's example
# feeds the next request), redocly and spectral with every rule (0 warnings; each rule turned
# off says why), every example validated against its schema, and the error-code catalogue checked
# against the codes the handlers declare. The pinned npm tools install on first use (`npm ci`).
.PHONY: test-contract
test-contract:
	@scripts/contract.sh

## make test-browser: headless Chromium drives the study page (web/, which the stack serves on
# app.vivid.localhost; the API on api.vivid.localhost) against a fresh local stack; a failure
# leaves screenshots, the browser console and the stack's log in target/browser-test/.
test-browser:
	@scripts/browser-test.sh

## make test-api-fuzz: schemathesis (pinned, .venv/schemathesis) against docs/openapi.yaml on a fresh
# local stack, as a host, a participant and a stranger, every check on, a bounded number of cases
# per operation; prints the case count (tests/schemathesis/; findings in FINDINGS.md there).
.PHONY: test-api-fuzz
test-api-fuzz:
	@scripts/schemathesis.sh

## make check-tls [REGIONS="us-east-1 eu-central-1"]: one call to every AWS service the functions
# call, in each region (regular and FIPS endpoints, as each service's SDK resolves them), through
# the functions' HTTPS client and trust store (tests/examples/check-tls.rs; AWS's five roots, or
# VIVID_TLS_TRUST=system for the system's): any HTTP answer passes, a refused handshake fails,
# named. REGIONS defaults to samconfig.toml's. Needs the internet, so `make test` does not run it:
# run it before deploying to a region or partition not checked yet (docs/deploying.md, "The
# trust store").
.PHONY: check-tls
REGIONS ?= $(shell sed -n 's/^region = "\([a-z0-9-]*\)".*/\1/p' samconfig.toml | sort -u)
check-tls:
	@test -n "$(REGIONS)" || { echo 'usage: make check-tls REGIONS="us-east-1 eu-central-1"'; exit 2; }
	$(CARGO) run --quiet -p vivid-tests --example check-tls -- $(REGIONS)

## make lint: the template checks first (seconds), docs/openapi.yaml current (make lint-openapi),
# the documented deploy against the template (scripts/check-samconfig.py: every parameter valued in
# every samconfig environment, no guided prompt, no reserved concurrency by default), the first
# deploy rehearsed in moto (make deploy-rehearsal, about 20 s), what each function links against
# what it is granted (scripts/check-links.py), then fmt and clippy.
lint: venv lint-template lint-openapi
	.venv/bin/python scripts/check-samconfig.py --selftest
	.venv/bin/python scripts/deploy-rehearsal.py
	.venv/bin/python scripts/check-links.py
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## make template: template.yaml written from its sources in template/ (scripts/gen-template.py; the
# per-function block is written once there). `make lint-template` fails while they differ.
.PHONY: template
template: venv
	.venv/bin/python scripts/gen-template.py

## make openapi: docs/openapi.yaml written from its sources in docs/openapi/ (scripts/gen-openapi.py:
# root.yaml the frame, paths/<tag>.yaml, schemas/<area>.yaml, examples/). `make lint-openapi` (and
# `make test-contract`) fail while they differ; lint-openapi also runs the generator's selftest.
.PHONY: openapi lint-openapi
openapi: venv
	.venv/bin/python scripts/gen-openapi.py

lint-openapi: venv
	@.venv/bin/python scripts/gen-openapi.py --check --selftest

## make lint-template: template.yaml generated from template/ and current, then as CloudFormation
# will see it, offline: the SAM transform
# with the pinned translator (no cycle, no unresolved reference, no secret in an environment, no
# route function whose Timeout outlives API Gateway's 30 s; the fixtures in tests/fixtures/template/
# must be rejected), cfn-lint, `sam validate --lint` and
# checkov (zero failures, every skip with its reason in the template).
lint-template: venv
	@scripts/lint-template.sh

## make deploy-rehearsal: the first deploy on a new account, offline (scripts/deploy-rehearsal.py,
# moto's CloudFormation in-process): dev's samconfig parameters deployed as docs/deploying.md does
# it (its secrets and alarm topic, the template transformed by the pinned translator), then prod
# beside it in the same account and region, the documented tear-down and the same name again, a
# failed first create retried. Prints what moto created per type and what it cannot rehearse (types
# it lacks, listed, never faked). About 20 s and deterministic (fresh mocked accounts, no network):
# part of `make lint`.
.PHONY: deploy-rehearsal
deploy-rehearsal: venv
	.venv/bin/python scripts/deploy-rehearsal.py

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace

# ---- Lambda builds, the Docker-free invoke loop and the benchmark (run by hand, not in `make test`) ----
.PHONY: build-arm64 invoke bench
VIVID_ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

## make build-arm64: every function for arm64 in one cargo-lambda invocation (target/lambda), each
# bootstrap zipped as SAM packages it, with the build time and the sizes (docs/benchmarks.md).
build-arm64:
	@scripts/build-arm64.sh

## `sam build` with `BuildMethod: makefile` (and `ContextPath: .`) calls build-<LogicalId> in a copy
# of the function's CodeUri: one build of the whole suite (a no-op once up to date), then this
# function's bootstrap into $(ARTIFACTS_DIR). The package is named by the CodeUri's Cargo.toml.
build-%Function:
	@"$(VIVID_ROOT)/scripts/build-arm64.sh" --artifact \
	  "$$(sed -n 's/^name = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)" "$(ARTIFACTS_DIR)"

## make invoke FN=get-space [ARGS=--keep]: the function's real binary on events/$(FN).json (made
# current against a local stack started for the call), as Lambda runs it; no Docker.
invoke:
	@test -n "$(FN)" || { echo "usage: make invoke FN=<function> [ARGS='--keep|--as-is|--event <file>']"; exit 2; }
	$(CARGO) build --quiet -p $(FN)
	$(CARGO) run --quiet -p vivid-bench --bin invoke -- $(FN) $(ARGS)

## make bench: every function and the baselines, one run, one table (scripts/bench.sh; about an hour).
bench: venv
	@scripts/bench.sh $(ARGS)
