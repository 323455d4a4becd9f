"""One `schemathesis run` per pass: schemathesis.toml with the pass's dictionaries, Web Fuzzing
Commons auth file and peers filled in (written as TOML), its arguments and environment, the run
itself (output to the pass's output.txt, printed whole when it ends), and the counts of its
`Test cases:` line."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from runner.config import BASE_CONFIG, DOCUMENT, HERE, OUT, SCHEMATHESIS, SEED, log
from runner.seed import Api, User, World, seed_pass


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def toml_dump(data: dict) -> str:
    """Enough TOML for schemathesis.toml: top-level scalars, one level of tables and arrays of
    tables, anything deeper as inline tables."""
    lines: list[str] = []
    sections: list[str] = []
    for key, value in data.items():
        k = json.dumps(key)
        if isinstance(value, dict):
            sections.append(f"\n[{k}]")
            sections.extend(f"{json.dumps(ik)} = {toml_value(iv)}" for ik, iv in value.items())
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                sections.append(f"\n[[{k}]]")
                sections.extend(f"{json.dumps(ik)} = {toml_value(iv)}" for ik, iv in item.items())
        else:
            lines.append(f"{k} = {toml_value(value)}")
    return "\n".join(lines + sections).lstrip() + "\n"


def pass_config(role: str, ids: dict[str, list], wfc: Path, users: list[str]) -> dict:
    """schemathesis.toml with this pass's dictionaries, auth and peers filled in."""
    config = tomllib.loads(BASE_CONFIG.read_text())
    config.pop("vivid", None)
    config["dictionaries"] = {name: {"values": [str(v) for v in values]} for name, values in ids.items() if values}
    peers = [role, "stranger"] if role != "stranger" else ["stranger", "host"]
    config.setdefault("auth", {})["wfc"] = {"path": str(wfc), "user": role, "peers": [p for p in peers if p in users]}
    known = set(config["dictionaries"])

    def keep(bindings: dict) -> dict:
        return {k: v for k, v in bindings.items() if not isinstance(v, dict) or v.get("dictionary") in known}

    config["parameters"] = keep(config.get("parameters", {}))
    for op in config.get("operations", []):
        if "parameters" in op:
            op["parameters"] = keep(op["parameters"])
    return config


@dataclass
class PassResult:
    role: str
    cases: int = 0
    failures: int = 0  # cases that found at least one failure
    unique: int = 0
    errors: int = 0
    skipped: int = 0  # cases no check could judge
    exit_code: int = 0
    seconds: float = 0.0
    failure_lines: list[str] = field(default_factory=list)


@dataclass
class Pass:
    role: str
    out: Path
    args: list[str]
    env: dict[str, str]


def prepare_pass(role: str, api: Api, world: World, users: dict[str, User], examples: str | None) -> Pass:
    """Seeds what the pass consumes and writes its config, auth file and seed list."""
    out = OUT / role
    out.mkdir(parents=True, exist_ok=True)
    ids = seed_pass(api, world, role) if role != "account" else {k: list(v) for k, v in world.ids.items()}
    wfc = out / "auth.json"
    wfc.write_text(json.dumps({
        "auth": [
            {"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {u.token}"}]}
            for name, u in users.items()
        ],
    }, indent=2))
    config = pass_config(role, ids, wfc, list(users))
    base = tomllib.loads(BASE_CONFIG.read_text()).get("vivid", {})
    include = base.get("account-operations", [])
    user_level = base.get("user-operations", []) if role in ("participant", "stranger") else []
    (out / "schemathesis.toml").write_text(toml_dump(config))
    (out / "seed.json").write_text(json.dumps(ids, indent=2))
    for old in [*out.glob("junit-*.xml"), *out.glob("ndjson-*.ndjson"), *out.glob("test_schemathesis_*.py"), out / "dropped.ndjson"]:
        old.unlink(missing_ok=True)
    args = [
        str(SCHEMATHESIS), "--config-file", str(out / "schemathesis.toml"), "--no-color", "run", str(DOCUMENT),
        "--url", api.base, "--seed", str(SEED),
        "--report", "junit,ndjson,pytest", "--report-dir", str(out),
    ]
    if role == "account":
        for op in include:
            args += ["--include-operation-id", op]
    else:
        for op in [*include, *user_level]:
            args += ["--exclude-operation-id", op]
    if examples:
        args += ["--max-examples", examples]
    args += shlex.split(os.environ.get("VIVID_SCHEMATHESIS_ARGS", ""))
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "hooks",
        "PYTHONPATH": str(HERE),
        "PYTHONDONTWRITEBYTECODE": "1",
        "VIVID_SCHEMATHESIS_SEEDED": str(out / "seed.json"),
        "VIVID_SCHEMATHESIS_ROLE": role,
        "VIVID_SCHEMATHESIS_DROPS": str(out / "dropped.ndjson"),
    }
    return Pass(role, out, args, env)


_print_lock = threading.Lock()


def run_pass(p: Pass) -> PassResult:
    """One `schemathesis run`; its output goes to the pass's output.txt and, whole, to stdout when
    it ends (passes run side by side)."""
    start = time.monotonic()
    result = PassResult(p.role)
    with open(p.out / "output.txt", "w") as transcript:
        result.exit_code = subprocess.run(p.args, cwd=p.out, env=p.env, stdout=transcript, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL).returncode
    result.seconds = time.monotonic() - start
    summarise(p.out, result)
    lines = [f"\n== pass `{p.role}` ({result.seconds:.0f} s): schemathesis run as {p.role}, {p.out}", (p.out / "output.txt").read_text()]
    drops = p.out / "dropped.ndjson"
    if drops.exists():
        counts: dict[tuple, int] = {}
        for line in drops.read_text().splitlines():
            d = json.loads(line)
            key = (d["rule"], d["operation"])
            counts[key] = counts.get(key, 0) + 1
        lines.append(f"   failures dropped as the contract ({drops}):")
        lines.extend(f"     {n:>4}  {operation}: {rule}" for (rule, operation), n in sorted(counts.items()))
    with _print_lock:
        log("\n".join(lines))
    return result


def summarise(out: Path, result: PassResult) -> None:
    """The counts of the CLI's `Test cases:` line: `G generated, F found U unique failures, E errored,
    S skipped` (or `G generated, G passed`)."""
    text = (out / "output.txt").read_text()
    lines = text.split("Test cases:")
    if len(lines) < 2:
        return
    line = lines[-1].strip().splitlines()[0]

    def number(pattern: str) -> int:
        m = re.search(pattern, line)
        return int(m.group(1)) if m else 0

    result.cases = number(r"(\d+) generated")
    result.failures = number(r"(\d+) found \d+ unique failure")
    result.unique = number(r"found (\d+) unique failure")
    result.errors = number(r"(\d+) errored")
    # Errors schemathesis met outside any one case (a schema it cannot generate from, a crash of its
    # own) appear only in its closing line: `== 3 failures, 1 error in 12.3s ==`.
    closing = [l for l in text.splitlines() if re.match(r"^=+ .* in [\d.]+s =+$", l)]
    if closing:
        m = re.search(r"(\d+) errors?\b", closing[-1])
        if m:
            result.errors = max(result.errors, int(m.group(1)))
    result.skipped = number(r"(\d+) skipped")
