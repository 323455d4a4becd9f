#!/usr/bin/env python3
"""README.md's shell examples, run as written against a local stack (`make test-readme`, part of
`make test`; scripts/readme-test.sh builds the stack and calls this file).

Which blocks run: every fenced `sh` block of README.md is preceded by one HTML comment that says
what it is, on the line right before the fence:

  <!-- example: status=201 jq='.name == "Physics 101"' -->   run, and what it must give
  <!-- not run: <why> -->                                     shown only (make dev itself, AWS)

A `sh` block with neither fails the check, so no new example goes untested by accident. The
examples run in README order in ONE bash (`set -euo pipefail`), so a variable or function one
defines (`API`, `TOKEN`, `api`, `SPACE`) serves the next, in a scratch directory, with `API` set to
the stack's address. An example's expectations, all optional:

  exit=N          its exit status (default 0); an example expected to fail runs in a subshell
  status='N ..'   every HTTP status it printed on stderr, in order (one per request: the
                  README's `api` helper and every bare curl of the README write
                  `-w '%{stderr}%{http_code}\\n'`), so each request's outcome is checked, not only
                  the last one's
  jq='EXPR'       `jq -e EXPR` holds of the last JSON value it printed on stdout
  stderr='TEXT'   its stderr contains TEXT
  set='A B'       these variables are non-empty after it
  loud='TEXT'     run it once more, alone, against a port nothing listens on: it must fail, its
                  stderr containing TEXT (no example may carry on with an empty token)

By default a fresh stack (`target/debug/vivid-local`, a free port, a fresh emulator) is started
and stopped; with API=http://127.0.0.1:3000 the examples run against that stack instead (e.g. your
`make dev`, started with VIVID_INDEX_LAG_MS=0: back to back, a list may otherwise run before the
index shows what the example before wrote). A selftest runs first: the checker refuses unmarked
blocks and every kind of unmet expectation. The examples get EXAMPLES_TIMEOUT seconds in all
(scripts/readme-test.sh's backstop is longer): past it, the one that hung is named. Each
example's output, and the stack's log, land in target/readme/. Standard library only, plus bash,
curl, jq and ffmpeg as the README itself needs them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(os.environ.get("VIVID_LOCAL_ROOT") or Path(__file__).resolve().parents[2])
README = ROOT / "README.md"
OUT = Path(os.environ.get("VIVID_README_OUT") or ROOT / "target" / "readme")
sys.path.insert(0, str(ROOT / "tests"))
from local_stack import StackProcess  # noqa: E402

MARK = re.compile(r"^<!--\s*(example|not run)\s*:?\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\S*)")
KEYS = {"exit", "status", "jq", "stderr", "set", "loud"}
# The examples take 15 to 31 s; scripts/readme-test.sh's backstop (600 s) also covers the stack's
# start (180 s at most) and the loud reruns (60 s each), so this one fires first and says where.
EXAMPLES_TIMEOUT = 240
LOUD_TIMEOUT = 60


@dataclass
class Example:
    line: int
    text: str
    expect: dict[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        first = next((ln for ln in self.text.splitlines() if ln.strip() and not ln.startswith("#")), "")
        return f"README.md:{self.line} ({first.strip()[:60]})"


def parse(readme: str) -> tuple[list[Example], list[str]]:
    """The runnable examples in order, and what is wrong with the README's marks."""
    lines = readme.splitlines()
    examples, errors = [], []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i
        end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), len(lines))
        i = end + 1
        if lang not in ("sh", "bash", "shell"):
            continue
        mark = MARK.match(lines[start - 1]) if start > 0 else None
        if not mark:
            errors.append(f"README.md:{start + 1}: a {lang} block without <!-- example: .. --> or <!-- not run: why --> before it")
            continue
        if mark.group(1) == "not run":
            if not mark.group(2):
                errors.append(f"README.md:{start}: <!-- not run: --> says why")
            continue
        expect: dict[str, str] = {}
        for word in shlex.split(mark.group(2)):
            key, _, value = word.partition("=")
            if key not in KEYS:
                errors.append(f"README.md:{start}: unknown expectation {key!r} (known: {', '.join(sorted(KEYS))})")
            expect[key] = value
        if "loud" in expect and not expect["loud"]:
            errors.append(f"README.md:{start}: loud='TEXT' says what its stderr must contain")
        examples.append(Example(start + 2, "\n".join(lines[start + 1:end]), expect))
    return examples, errors


def script(examples: list[Example], out: Path) -> str:
    """One bash running every example in order, each one's output in out/<n>.{out,err,rc}."""
    parts = ["set -euo pipefail"]
    for n, ex in enumerate(examples):
        o, e, rc = (shlex.quote(str(out / f"{n}.{k}")) for k in ("out", "err", "rc"))
        if ex.expect.get("exit", "0") == "0":
            # In this shell: what it defines serves the next examples; a failure ends the run.
            parts.append(f"{{\n{ex.text}\n}} >{o} 2>{e}\necho 0 >{rc}")
        else:
            parts.append(f"set +e\n(\nset -e\n{ex.text}\n) >{o} 2>{e}\necho $? >{rc}\nset -e")
        for name in ex.expect.get("set", "").split():
            parts.append(f"printf '%s' \"${{{name}-}}\" >{shlex.quote(str(out / f'{n}.var.{name}'))}")
    return "\n".join(parts) + "\n"


def last_json(text: str) -> object:
    """The last JSON value printed (compact or pretty, one after another; other lines skipped)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        try:
            value, at = decoder.raw_decode(text, at)
            found.append(value)
        except json.JSONDecodeError:
            nl = text.find("\n", at)
            at = len(text) if nl < 0 else nl + 1
    if not found:
        raise ValueError("no JSON in its output")
    return found[-1]


def check(n: int, ex: Example, out: Path) -> list[str]:
    """What example n did against what its mark says."""
    rc_file = out / f"{n}.rc"
    stdout = (out / f"{n}.out").read_text() if (out / f"{n}.out").exists() else ""
    stderr = (out / f"{n}.err").read_text() if (out / f"{n}.err").exists() else ""
    if not rc_file.exists():
        return [f"{ex.label}: did not run to its end\n--- stderr\n{stderr[-2000:]}"]
    problems = []
    rc = rc_file.read_text().strip()
    if rc != ex.expect.get("exit", "0"):
        problems.append(f"exit {rc}, the README says {ex.expect.get('exit', '0')}")
    if "status" in ex.expect:
        statuses = re.findall(r"^(\d{3})$", stderr, re.M)
        if statuses != ex.expect["status"].split():
            problems.append(f"HTTP statuses {' '.join(statuses) or 'none printed'}, the README says {ex.expect['status']}")
    if "jq" in ex.expect:
        try:
            value = json.dumps(last_json(stdout))
            held = subprocess.run(["jq", "-e", ex.expect["jq"]], input=value, text=True, capture_output=True)
            if held.returncode != 0:
                problems.append(f"jq -e {ex.expect['jq']!r} does not hold of {value[:300]} {held.stderr.strip()}")
        except ValueError as e:
            problems.append(str(e))
    if "stderr" in ex.expect and ex.expect["stderr"] not in stderr:
        problems.append(f"stderr lacks {ex.expect['stderr']!r}")
    for name in ex.expect.get("set", "").split():
        var = out / f"{n}.var.{name}"
        if not var.exists() or not var.read_text():
            problems.append(f"${name} is empty")
    if problems:
        return [f"{ex.label}: " + "; ".join(problems) + f"\n--- stdout\n{stdout[-1500:]}\n--- stderr\n{stderr[-1500:]}"]
    return []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_bash(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int, str, str] | None:
    """bash in a session of its own: exit status, stdout, stderr; None when it outlived `timeout`
    (then it is killed with everything it started, so no child keeps the pipes open)."""
    proc = subprocess.Popen(["bash", *args], cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None


def check_loud(ex: Example, out: Path, env: dict[str, str]) -> list[str]:
    """The example alone against a port nothing listens on: it must fail, saying what its mark says."""
    env = {**env, "API": f"http://127.0.0.1:{closed_port()}"}
    run = run_bash(["-c", "set -euo pipefail\n" + ex.text], out, env, LOUD_TIMEOUT)
    if run is None:
        return [f"{ex.label}: without a stack it hung for {LOUD_TIMEOUT} s: it must fail at once"]
    rc, _, stderr = run
    if rc == 0 or ex.expect["loud"] not in stderr:
        return [f"{ex.label}: without a stack it exits {rc} with stderr {stderr.strip()!r}: "
                f"it must fail with {ex.expect['loud']!r}"]
    return []


def selftest() -> None:
    """The checker refuses what it must: an unmarked block, an unknown key, and an example whose
    exit status, HTTP status, JSON or variable is not what its mark says."""
    bad = "<!-- example: statuz=200 -->\n```sh\ntrue\n```\n```sh\nfalse\n```\n<!-- not run: -->\n```sh\nx\n```\n"
    _, errors = parse(bad)
    assert len(errors) == 3, errors
    (ex,), errors = parse("<!-- example: status=201 jq='.a == 1' set=X -->\n```sh\necho\n```\n")
    assert not errors and ex.expect == {"status": "201", "jq": ".a == 1", "set": "X"}, (ex, errors)
    _, errors = parse("<!-- example: loud -->\n```sh\ntrue\n```\n")
    assert len(errors) == 1 and "loud=" in errors[0], errors
    out = OUT / "selftest"
    out.mkdir(parents=True, exist_ok=True)
    for stdout, stderr, rc, var, wrong in [
        ('{"a": 1}\n', "201\n", "0", "x", 0),
        ('{"a": 2}\n', "201\n", "0", "x", 1),
        ('{"a": 1}\n', "200\n", "0", "x", 1),
        ('{"a": 1}\n', "400\n201\n", "0", "x", 1),
        ('{"a": 1}\n', "", "0", "x", 1),
        ('{"a": 1}\n', "201\n", "22", "x", 1),
        ('{"a": 1}\n', "201\n", "0", "", 1),
        ("not json\n", "201\n", "0", "x", 1),
    ]:
        for suffix, text in (("out", stdout), ("err", stderr), ("rc", rc), ("var.X", var)):
            (out / f"0.{suffix}").write_text(text)
        assert len(check(0, ex, out)) == wrong, (stdout, stderr, rc, var)
    (out / "0.rc").unlink()
    assert "did not run to its end" in check(0, ex, out)[0]
    (two,), _ = parse("<!-- example: status='201 200' -->\n```sh\necho\n```\n")
    for stderr, wrong in [("201\n200\n", 0), ("200\n", 1), ("200\n200\n", 1), ("201\n200\n200\n", 1)]:
        for suffix, text in (("out", ""), ("err", stderr), ("rc", "0")):
            (out / f"0.{suffix}").write_text(text)
        assert len(check(0, two, out)) == wrong, stderr
    (loud,), _ = parse("<!-- example: loud='curl: (7)' -->\n```sh\necho 'jq: command not found' >&2; exit 127\n```\n")
    assert check_loud(loud, out, dict(os.environ)), "any stderr passed as loud"
    (loud,), _ = parse("<!-- example: loud='curl: (7)' -->\n```sh\ncurl -sS \"$API/\"\n```\n")
    assert not check_loud(loud, out, dict(os.environ)), "curl's own refusal"
    assert run_bash(["-c", "sleep 30 & sleep 30"], out, dict(os.environ), 0.5) is None


def main() -> int:
    selftest()
    examples, errors = parse(README.read_text())
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "work"
    work.mkdir(exist_ok=True)
    for old in OUT.glob("[0-9]*.*"):
        old.unlink()
    env = {k: v for k, v in os.environ.items() if k != "TOKEN"}
    stack = None
    started = time.monotonic()
    try:
        if not env.get("API"):
            binary = Path(os.environ.get("VIVID_LOCAL_BIN") or ROOT / "target" / "debug" / "vivid-local")
            stack_env = {
                **env, "VIVID_PORT": "0", "VIVID_HOST": "127.0.0.1", "RUST_LOG": env.get("RUST_LOG", "warn"),
                # The front end's port stays free (a `make dev` or the browser test may hold it).
                "VIVID_FRONTEND_SERVE": "off",
                # Examples run back to back, not at a person's pace: a list right after the write
                # would race the indexes' lag (tests/tests/stack covers the lag).
                "VIVID_INDEX_LAG_MS": "0",
            }
            stack = StackProcess(binary, ROOT, OUT, stack_env, "run `cargo build -p vivid-local` (scripts/readme-test.sh does)")
            stack.start(timeout=180)
            assert stack.base
            env["API"] = stack.base
            print(f"readme: local stack at {stack.base} in {time.monotonic() - started:.1f} s", flush=True)
        t = time.monotonic()
        (OUT / "examples.sh").write_text(script(examples, OUT))
        run = run_bash([str(OUT / "examples.sh")], work, env, EXAMPLES_TIMEOUT)
        failures = []
        for n, ex in enumerate(examples):
            if run is None and not (OUT / f"{n}.rc").exists():
                err = (OUT / f"{n}.err").read_text()[-1500:] if (OUT / f"{n}.err").exists() else ""
                failures.append(f"{ex.label}: still running after {EXAMPLES_TIMEOUT} s (all examples' time), "
                                f"stopped: it hangs (outputs in {OUT}/{n}.*)\n--- stderr\n{err}")
                break
            failures += check(n, ex, OUT)
            if not (OUT / f"{n}.rc").exists():
                break  # the run ended there: the rest did not run
        if run is not None and run[0] != 0 and not failures:
            failures.append(f"the examples' shell exited {run[0]}: {run[2][-1500:]}")
        failures += [f for ex in examples if "loud" in ex.expect for f in check_loud(ex, work, env)]
        took = time.monotonic() - t
    finally:
        if stack:
            stack.stop()
    if failures:
        print("\n\n".join(failures), file=sys.stderr)
        print(f"readme: {len(failures)} of {len(examples)} examples failed (outputs in {OUT})", file=sys.stderr)
        return 1
    print(f"readme: {len(examples)} examples of README.md passed in {took:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
