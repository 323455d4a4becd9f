"""A run of named steps: checks that let a step go on (so one run reports every problem it meets)
and checks the rest of the step needs, each step's outcome and time, and on a failure its
artifacts (a screenshot, the page's API calls, the console, the trace of every page call). Then
helpers for what the page answers: ev (a call of the page's `app`, traced), RFC 3339 times and
problem+json bodies."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import traceback

from playwright.sync_api import Error as PlaywrightError

from runner.config import OUT, log

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class StepFailed(Exception):
    pass


class Run:
    def __init__(self) -> None:
        self.results: list[tuple[str, str, float, str]] = []  # (step, passed|failed|skipped, secs, why)
        self.failures: list[str] = []
        self.console: list[str] = []
        self.page = None
        self.current = ""
        self.step_failures: list[str] = []

    def check(self, ok: bool, what: str, seen=None) -> bool:
        """A check that lets the step go on (so one run reports every problem it meets)."""
        if not ok:
            detail = f"{self.current}: {what}" + (f"\n      saw: {json.dumps(seen, default=str)[:1500]}" if seen is not None else "")
            self.step_failures.append(detail)
            log(f"   FAIL {what}")
        return ok

    def require(self, ok: bool, what: str, seen=None) -> None:
        """A check the rest of the step depends on."""
        if not self.check(ok, what, seen):
            raise StepFailed(what)

    def step(self, name: str, fn, *, needed: bool = True) -> bool:
        self.current = name
        self.step_failures = []
        log(f"-- {name}")
        start = time.monotonic()
        outcome = "passed"
        why = ""
        try:
            skipped = fn()
            if skipped:
                outcome, why = "skipped", skipped
        except StepFailed:
            pass
        except Exception as e:  # noqa: BLE001 (a step's error is its failure; the run goes on)
            self.step_failures.append(f"{name}: {type(e).__name__}: {e}")
            log(f"   ERROR {type(e).__name__}: {str(e)[:800]}")
            (OUT / "traceback.txt").open("a").write(f"== {name}\n{traceback.format_exc()}\n")
        secs = time.monotonic() - start
        if self.step_failures:
            outcome = "failed"
            self.failures.extend(self.step_failures)
            self.artifacts(name)
        log(f"   {outcome} in {secs:.1f} s" + (f" ({why})" if why else ""))
        self.results.append((name, outcome, secs, why))
        if outcome == "failed" and needed:
            raise StepFailed(name)
        return outcome != "failed"

    def artifacts(self, name: str) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        if self.page is not None:
            try:
                self.page.screenshot(path=str(OUT / f"{slug}.png"), full_page=True, timeout=10000)
            except PlaywrightError as e:
                log(f"   (no screenshot: {e})")
            try:
                calls = self.page.evaluate("() => window.vividState ? window.vividState.calls : []")
                (OUT / f"{slug}.api-calls.json").write_text(json.dumps(calls, indent=1))
            except PlaywrightError:
                pass
        self.save_console()

    def save_console(self) -> None:
        (OUT / "console.log").write_text("\n".join(self.console) + "\n")
        (OUT / "trace.json").write_text(json.dumps(TRACE, indent=1, default=str))


TRACE: list[dict] = []  # every page call and what it returned: target/browser-test/trace.json


def ev(page, script: str, *args):
    """Evaluates an async function of the page's `app` with JSON arguments."""
    result = page.evaluate(script, list(args)) if args else page.evaluate(script)
    TRACE.append({"at": round(time.time(), 3), "call": script, "args": list(args), "result": result})
    return result


def parse_rfc3339(value) -> dt.datetime | None:
    if not isinstance(value, str) or not RFC3339.match(value):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def is_problem(call: dict) -> bool:
    body = call.get("body")
    return (
        "application/problem+json" in (call.get("contentType") or call.get("headers", {}).get("contentType") or "")
        and isinstance(body, dict)
        and all(k in body for k in ("type", "title", "status", "code"))
    )
