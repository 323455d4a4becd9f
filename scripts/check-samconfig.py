#!/usr/bin/env python3
"""The documented deploy, checked offline before an AWS account sees it.

- Every template parameter without a `Default` has a value in every deploy environment of
  `samconfig.toml` (`sam deploy --config-env ENV` is refused before anything is created
  otherwise), and no environment names a parameter the template does not declare.
- No value is left as a placeholder default the template ships (a client id deployed as
  `zoom-client-id` connects nobody): parameters listed in REQUIRED_REAL must be set.
- The deploy path the docs name cannot abort on a default answer: they never send a reader to
  `sam deploy --guided` (which asks "has no authentication. Is this okay? [y/N]" once per public
  route, Enter aborting), and each environment's `[ENV.deploy.parameters]` sets the region and
  resolves the artifacts bucket itself.
- Nothing reserves concurrency by default (a new account's quota is 10, all unreserved).
- Stack names fit the bucket names (`{stack}-media-{account}-{region}` within S3's 63).

Run by `make lint`; `--selftest` also checks that a broken samconfig is refused.
"""

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Parameters whose template default is a placeholder: every environment must set them.
REQUIRED_REAL = {"ZoomClientId", "WebexClientId", "GoogleClientId"}
DOCS = ["README.md", "docs/deploying.md"]


def parameters(template: str) -> dict[str, str | None]:
    """Each declared parameter and its default (None when it has none)."""
    block = re.search(r"^Parameters:\n(.*?)^\S", template, re.S | re.M)
    out: dict[str, str | None] = {}
    if not block:
        return out
    for m in re.finditer(r"^  (\w+):\n((?:    .*\n|\n)*)", block.group(1), re.M):
        default = re.search(r"^    Default:\s*(.*)$", m.group(2), re.M)
        out[m.group(1)] = default.group(1).strip().strip("'\"") if default else None
    return out


def overrides(section: dict) -> dict[str, str]:
    value = section.get("parameter_overrides", [])
    items = value if isinstance(value, list) else re.findall(r'(\w+=(?:"[^"]*"|\S+))', value)
    out = {}
    for item in items:
        name, _, v = item.partition("=")
        out[name.strip()] = v.strip().strip('"')
    return out


def problems(template: str, config: dict, docs: dict[str, str]) -> list[str]:
    found = []
    declared = parameters(template)
    envs = [env for env, sec in config.items() if isinstance(sec, dict) and "deploy" in sec and env != "default"]
    if not envs:
        found.append("samconfig.toml has no deploy environment")
    for env in envs:
        deploy = config[env]["deploy"].get("parameters", {})
        given = overrides(deploy)
        stack = config[env].get("global", {}).get("parameters", {}).get("stack_name", "")
        for name, default in declared.items():
            if default is None and name not in given:
                found.append(f"[{env}] {name} has no default and no value: sam deploy --config-env {env} is refused")
        for name in given:
            if name not in declared:
                found.append(f"[{env}] {name} is not a parameter of template.yaml")
        if given.get("ImportWorkerConcurrency", "0") != "0":
            found.append(f"[{env}] reserves ImportWorkerConcurrency: a new account (quota 10) cannot create the stack")
        if stack != stack.lower():
            found.append(f"[{env}] stack name {stack!r}: bucket names take lowercase only")
        for name in sorted(REQUIRED_REAL & declared.keys()):
            if name not in given:
                found.append(f"[{env}] {name} would deploy as its placeholder {declared[name]!r}")
        if len(stack) > 28:
            found.append(f"[{env}] stack name {stack!r} is over 28 characters: its bucket names would pass S3's 63")
        if not deploy.get("region"):
            found.append(f"[{env}] no region: the deploy would ask for one")
        if not deploy.get("resolve_s3") and not deploy.get("s3_bucket"):
            found.append(f"[{env}] neither resolve_s3 nor s3_bucket: the 230 KB template needs an S3 bucket")
    reserve = declared.get("ImportWorkerConcurrency")
    if reserve not in (None, "0"):
        found.append(f"ImportWorkerConcurrency defaults to {reserve}: a new account (quota 10) cannot reserve it")
    for name, text in docs.items():
        for line in text.splitlines():
            if re.search(r"sam deploy[^\n`]*--guided", line):
                found.append(f"{name}: sends the reader to `sam deploy --guided`, which aborts on a default answer")
    return found


def selftest() -> None:
    template = "Parameters:\n  A:\n    Type: String\n  B:\n    Type: String\n    Default: x\n  ImportWorkerConcurrency:\n    Type: Number\n    Default: 10\nResources:\n"
    config = {"dev": {"global": {"parameters": {"stack_name": "x" * 29}}, "deploy": {"parameters": {"parameter_overrides": ["C=1"]}}}}
    got = problems(template, config, {"README.md": "run `sam deploy --guided`"})
    expected = ["over 28 characters", "A has no default", "C is not a parameter", "no region", "neither resolve_s3", "ImportWorkerConcurrency defaults", "--guided"]
    missing = [e for e in expected if not any(e in p for p in got)]
    if missing:
        sys.exit(f"check-samconfig selftest: not refused: {missing}")


def main() -> None:
    if "--selftest" in sys.argv:
        selftest()
    template = (ROOT / "template.yaml").read_text()
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    docs = {name: (ROOT / name).read_text() for name in DOCS if (ROOT / name).exists()}
    found = problems(template, config, docs)
    if found:
        print("check-samconfig: the documented deploy would be refused or abort:")
        for p in found:
            print(f"  - {p}")
        sys.exit(1)
    envs = [env for env, sec in config.items() if isinstance(sec, dict) and "deploy" in sec and env != "default"]
    print(f"check-samconfig: every parameter has a value in {', '.join(envs)}; no guided prompt on the documented path")


if __name__ == "__main__":
    main()
