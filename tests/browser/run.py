#!/usr/bin/env python3
"""The browser test: headless Chromium studies a lecture end to end, as the VIVID web client does.

It starts the local stack (`target/debug/vivid-local`) with the API on
`http://api.vivid.localhost:<port>` and the front end's origin `http://app.vivid.localhost:<port>`,
where the stack serves the study page (web/, as `make dev` does on http://localhost:5173) -- sibling subdomains of one site, as `api.example.com` and
`app.example.com` are in production (Chromium resolves `*.localhost` to loopback and treats it as
a secure context, so the `Secure` refresh cookie works over http). Then Playwright drives the
system Chromium through the page:

  sign in (Google stand-in) -> refresh through the cookie past the token's lifetime -> create a
  space -> presigned PUT of a real clip -> multipart upload of a larger one, interrupted, page
  reloaded, resumed -> READY -> HLS with hls.js (playback advances, a decoded frame) and grant
  renewal -> seek, progress -> text memo with If-Match -> overlay drawing -> drawing over the
  playing video, read back and seen -> snapshot -> bookmark and search -> an invitation's link
  accepted by another person -> Webex connect and import -> Zoom connect and import -> log out.

Then the page inside an LMS (runner/lti.py; tests/lti/platform.py is the LMS, on another site):
the tool registered by an LTI administrator's URL, an instructor's launch and a lecture READY in the
course's space, then a learner's course page framing the tool in a Chromium that blocks third-party
cookies (checked in the iframe): launched, signed in from the code, the lecture playing.

Each step's observations are asserted here. A failure leaves a screenshot, the browser's console,
the page's API calls and the stack's log in target/browser-test/ (VIVID_BROWSER_OUT overrides).

Run it with `make test-browser` (scripts/browser-test.sh builds the stack and installs the deps).

The page is web/ (index.html, app.js, ES modules under app/); the runner's parts are in runner/
(its __init__ lists them); this file is the entry point: main.
"""

from __future__ import annotations

import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from playwright.sync_api import sync_playwright

from runner.clips import make_clips
from runner.config import CHROMIUM, CHROMIUM_ARGS, HEADED, OUT, log
from runner.flow import flow
from runner.lti import Platform, in_lms
from runner.servers import LocalStack
from runner.steps import Run, StepFailed


def main() -> int:
    started = time.monotonic()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    run = Run()
    stack = LocalStack(Path(), Path())

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    crashed = None
    platform: Platform | None = None
    try:
        clips = make_clips()
        # The LMS first: the stack lets its origin (and no other) frame the page's launch landing.
        platform = Platform()
        stack = LocalStack(clips["webex"], clips["zoom"], lms_origins=platform.base)
        stack.start()
        log(f"browser test: page {stack.origin} (served by the stack), API {stack.api} "
            f"({time.monotonic() - started:.1f} s to start)")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=not HEADED, args=CHROMIUM_ARGS)
            try:
                try:
                    flow(run, browser, stack, clips)
                except StepFailed:
                    pass
                # Its own course, space and people: it runs whatever became of the study flow.
                in_lms(run, browser, stack, clips, platform)
            finally:
                browser.close()
    except Exception as e:  # noqa: BLE001 (set-up failures are reported, not raised)
        crashed = f"{type(e).__name__}: {e}"
        (OUT / "traceback.txt").open("a").write(traceback.format_exc())
    finally:
        stack.stop()
        if platform:
            platform.stop()
        run.save_console()

    secs = time.monotonic() - started
    passed = sum(1 for r in run.results if r[1] == "passed")
    failed = sum(1 for r in run.results if r[1] == "failed") + (1 if crashed else 0)
    skipped = [r for r in run.results if r[1] == "skipped"]
    log("")
    for name, outcome, t, why in run.results:
        log(f"  {outcome:7} {t:5.1f} s  {name}" + (f"  -- SKIPPED: {why}" if why else ""))
    if crashed:
        log(f"  the test could not run: {crashed}")
    for f in run.failures:
        log(f"  FAILED {f}")
    if failed:
        log(f"browser test failed: screenshots, console and logs in {OUT}")
    log(f"browser test finished in {secs:.0f} s")
    log(f"browser: {passed} passed, {failed} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
