"""The driver of scripts/check-template.py: every check on one template, the report, the selftest
(the fixtures under tests/fixtures/template/ must be rejected for the reason each is named after;
template.yaml passes) and main."""

from __future__ import annotations

import sys
from pathlib import Path

from check_template.conventions import checkov_skips_without_reason, operations, route_timeouts
from check_template.environment import environment_secrets
from check_template.headroom import headroom
from check_template.naming import fixed_names
from check_template.references import cycles, dependency_graph, describe_cycle, unresolved
from check_template.transform import InvalidDocumentException, sam_transform, yaml_parse

ROOT = Path(__file__).resolve().parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "template"


def check(path: Path, conventions: bool) -> dict[str, list[str]]:
    """The problems found in one template, by check name."""
    source = yaml_parse(path.read_text())
    found: dict[str, list[str]] = {}
    try:
        transformed = sam_transform(source)
    except InvalidDocumentException as e:
        found["transform"] = [str(c) for c in e.causes] or [str(e)]
        return found
    graph = dependency_graph(transformed)
    found["cycle"] = [describe_cycle(graph, c) for c in cycles(graph)]
    found["unresolved"] = unresolved(transformed)
    found["secret"] = environment_secrets(transformed)
    found["naming"] = fixed_names(transformed)
    found["checkov-skip"] = checkov_skips_without_reason(source)
    found["timeout"] = route_timeouts(source)
    if conventions:
        found["operations"] = operations(source)
        lines, over = headroom(transformed)
        print("headroom: " + "; ".join(lines), flush=True)
        found["headroom"] = over
    return {k: v for k, v in found.items() if v}


def report(path: Path, problems: dict[str, list[str]], resources: int | None = None) -> None:
    if not problems:
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: ok", flush=True)
        return
    for kind, items in problems.items():
        for item in items:
            print(f"{path.name}: {kind}: {item}", flush=True)


def selftest() -> int:
    failures = 0
    fixtures = sorted(FIXTURES.glob("*.yaml"))
    if not fixtures:
        print(f"no fixtures under {FIXTURES}", file=sys.stderr)
        return 1
    for fixture in fixtures:
        expected = fixture.stem.split("-")[0]  # cycle*.yaml must fail the "cycle" check, and so on
        problems = check(fixture, conventions=False)
        if expected in problems:
            print(f"selftest: {fixture.name} rejected as expected ({expected}: {problems[expected][0]})")
        else:
            print(f"selftest: {fixture.name} was NOT rejected for {expected!r}; found {problems}", file=sys.stderr)
            failures += 1
    problems = check(ROOT / "template.yaml", conventions=True)
    if problems:
        report(ROOT / "template.yaml", problems)
        failures += 1
    else:
        print("selftest: template.yaml accepted")
    return 1 if failures else 0


def main(argv: list[str]) -> int:
    if argv == ["--selftest"]:
        return selftest()
    paths = [Path(a) for a in argv] or [ROOT / "template.yaml"]
    status = 0
    for path in paths:
        path = path.resolve()
        problems = check(path, conventions=path == ROOT / "template.yaml")
        report(path, problems)
        if problems:
            status = 1
    return status
