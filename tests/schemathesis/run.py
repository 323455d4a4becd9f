#!/usr/bin/env python3
"""schemathesis against the local stack, as a host, a participant and a stranger.

`make test-api-fuzz` (scripts/schemathesis.sh) installs the pinned schemathesis into
`.venv/schemathesis`, builds `vivid-local` and runs this file, which:

1. starts the local stack (`target/debug/vivid-local`, a port of its own, a fresh emulator), with
   a one-second clip behind the Webex and Zoom stand-ins (transcodes stay cheap);
2. seeds it through the API only, signing users in as a client does (the Google stand-in's ID
   token for our tokens): a host, a participant, a stranger and an invitee; a space the
   participant belongs to, with a READY video (a real upload, transcoded) and a multipart upload
   left open; each member's progress, memo and checkpoint, drawings and snapshot; Webex and Zoom
   connected for everyone; refresh and ID tokens. Then, per pass, the disposable resources its
   destructive operations consume (hooks.py keeps them off the shared ones);
3. runs `schemathesis run docs/openapi.yaml` once per pass -- `host`, `participant`, `stranger`,
   and `account` (DELETE /users/me as a throwaway user) -- two at a time, every check on, a bounded
   number of examples per operation (schemathesis.toml), the pass's user pinned in a Web Fuzzing
   Commons auth file whose stranger (or host) is the peer for the object-level authorization
   check; seeded ids reach the requests through schemathesis dictionaries, drawn for most cases
   (the rest stay generated: unknown and malformed ids);
4. prints each pass's output, the failures hooks.py dropped as the contract (FINDINGS.md, D), a
   table of cases per pass, and one closing line `schemathesis: N passed, N failed, N skipped`
   over every generated case; exits non-zero on any failure or error.

Reports (JUnit, NDJSON events, a pytest file replaying each failure), each pass's config and seed
list, and the stack's log land in `target/schemathesis/` (VIVID_SCHEMATHESIS_OUT overrides).
FINDINGS.md beside this file says what the runs found. Knobs:

  VIVID_SCHEMATHESIS_PASSES     comma-separated subset of host,participant,stranger,account
  VIVID_SCHEMATHESIS_EXAMPLES   examples per operation (default: schemathesis.toml's)
  VIVID_SCHEMATHESIS_SEED       Hypothesis seed (default: a fixed one, so runs repeat)
  VIVID_SCHEMATHESIS_LANES      how many passes run at once (default 2)
  VIVID_SCHEMATHESIS_ARGS       extra arguments for every `schemathesis run`
  VIVID_SCHEMATHESIS_DOCUMENT   the OpenAPI document to test (default: docs/openapi.yaml), e.g. a draft
  VIVID_LOCAL_BIN, VIVID_LOCAL_ROOT  the stack's binary and the checkout it runs in

The stack, the seeds and the passes live in runner/ beside this file (its __init__ lists them);
this file is the entry point: main.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import time

from runner.config import OUT, PASSES, log
from runner.passes import PassResult, prepare_pass, run_pass
from runner.seed import Api, SeedError, seed_world
from runner.stack import LocalStack, make_clip


def main() -> int:
    passes = [p.strip() for p in (os.environ.get("VIVID_SCHEMATHESIS_PASSES") or ",".join(PASSES)).split(",") if p.strip()]
    unknown = [p for p in passes if p not in PASSES]
    if unknown:
        log(f"unknown pass(es) {unknown}: choose from {', '.join(PASSES)}")
        return 2
    examples = os.environ.get("VIVID_SCHEMATHESIS_EXAMPLES")
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    clip = make_clip()
    stack = LocalStack(clip)
    results: list[PassResult] = []
    try:
        stack.start()
        assert stack.base
        log(f"local stack at {stack.base} (log: {OUT / 'stack.log'})")
        api = Api(stack.base)
        t = time.monotonic()
        world = seed_world(api, clip)
        log(f"seeded in {time.monotonic() - t:.1f} s: " + ", ".join(f"{k} {len(v)}" for k, v in world.ids.items()))
        # Fresh access tokens (the local stack's last 15 minutes), then every pass's own seeds.
        world.users = {name: api.user(u.name, u.email) for name, u in world.users.items()}
        prepared = []
        for role in passes:
            users = {k: u for k, u in world.users.items() if k != "invitee"}
            if role == "account":
                # DELETE /users/me ends the account it runs as: a throwaway one, never the others.
                users = {"account": api.user("Tom Throwaway", "throwaway@example.com"), "stranger": world.users["stranger"]}
            prepared.append(prepare_pass(role, api, world, users, examples))
        # Passes side by side, each schemathesis with one worker: the passes share nothing a
        # destructive operation may take (hooks.py), and one process per lane keeps schemathesis's
        # threads (CPython 3.11 builds ASTs unsafely across them) out of the way.
        lanes = max(1, int(os.environ.get("VIVID_SCHEMATHESIS_LANES") or 2))
        log(f"{len(prepared)} passes, {lanes} at a time")
        with concurrent.futures.ThreadPoolExecutor(max_workers=lanes) as pool:
            results = list(pool.map(run_pass, prepared))
    except SeedError as e:
        log(f"ERROR {e}")
        return 1
    finally:
        stack.stop()
    total_cases = sum(r.cases for r in results)
    total_failures = sum(r.failures for r in results)
    log("\n== schemathesis, per pass")
    for r in results:
        log(f"  {r.role:<12} {r.cases:>6} cases  {r.failures:>4} failed ({r.unique} unique failures)  {r.errors:>3} errored"
            f"  {r.skipped:>4} skipped  exit {r.exit_code}  {r.seconds:6.1f} s")
    total_errors = sum(r.errors for r in results)
    total_skipped = sum(r.skipped for r in results)
    log(f"  total        {total_cases:>6} cases in {time.monotonic() - started:.0f} s (reports in {OUT})")
    failed_passes = [r.role for r in results if r.exit_code != 0]
    if failed_passes and not total_failures and not total_errors:
        log(f"  schemathesis exited non-zero in {', '.join(failed_passes)}: see {OUT}/<pass>/output.txt")
    passed = total_cases - total_failures - total_errors - total_skipped
    log(f"schemathesis: {passed} passed, {total_failures + total_errors} failed, {total_skipped} skipped")
    return 1 if failed_passes or len(results) < len(passes) else 0


if __name__ == "__main__":
    sys.exit(main())
