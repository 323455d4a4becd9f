"""What the generators of committed files share (scripts/gen-template.py writes template.yaml,
scripts/gen-openapi.py writes docs/openapi.yaml): the command line and the self-test.

  <generator>              write the file
  <generator> --check      exit 1 with a diff when the committed file is not what its sources give
  <generator> --selftest   broken copies of the sources must each be refused for its reason, and
                           the sources must give the same bytes twice (with --check: both)

Standard library only.
"""

from __future__ import annotations

import difflib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent


def refused_copies(
    source: Path,
    cases: list,
    generate: Callable[[Path], str],
    error: type[Exception],
    apply: Callable[[Path, list], list[str]],
) -> list[str]:
    """Each case is `(edits, says)`: `apply(copy, edits)` breaks a fresh copy of `source` (and
    returns what is wrong with the case itself), then `generate(copy)` must raise `error` with
    `says` in its text. Returns the failures."""
    failures = []
    if generate(source) != generate(source):
        failures.append("two runs on the same sources differ")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / source.name
        for edits, says in cases:
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(source, copy)
            failures += apply(copy, edits)
            label = edits[-1][0]
            try:
                generate(copy)
                failures.append(f"{label}: a broken copy was accepted (expected: {says})")
            except error as e:
                if says not in str(e):
                    failures.append(f"{label}: refused as {e} (expected: {says})")
    return failures


def main(
    argv: list[str],
    *,
    usage: str,
    name: str,
    target: Path,
    source: Path,
    generate: Callable[[Path], str],
    error: type[Exception],
    selftest: Callable[[], list[str]],
    cases: int,
    summary: Callable[[str], str],
    make: str,
) -> int:
    """The generator's command line: `name` prefixes its messages, `summary(text)` says what was
    generated from what (e.g. "4438 lines from template/"), `make` is the target that writes it."""
    flags = set(argv)
    if not flags <= {"--check", "--selftest"}:
        print(usage, file=sys.stderr)
        return 2
    rel = target.relative_to(ROOT)
    try:
        text = generate(source)
        failures = selftest() if "--selftest" in flags else []
    except error as e:
        print(f"{name}: {e}", file=sys.stderr)
        return 1
    for failure in failures:
        print(f"{name} selftest: {failure}", file=sys.stderr)
    if "--selftest" in flags and not failures:
        print(f"selftest: {cases} broken sources refused, each for its reason; the same bytes twice")
    if "--check" not in flags:
        if "--selftest" not in flags:
            target.write_text(text)
            print(f"{rel}: {summary(text)}")
        return 1 if failures else 0
    current = target.read_text() if target.is_file() else ""
    if current == text:
        print(f"{rel} is current ({summary(text)})")
        return 1 if failures else 0
    sys.stdout.writelines(
        difflib.unified_diff(current.splitlines(keepends=True), text.splitlines(keepends=True), str(rel), "generated")
    )
    print(
        f"{rel} is not what {source.relative_to(ROOT)}/ generates: edit {source.relative_to(ROOT)}/, then `make {make}`",
        file=sys.stderr,
    )
    return 1
