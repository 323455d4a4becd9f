#!/usr/bin/env python3
"""Each function links and is granted only what it uses.

For every function of template.yaml, the crates its package links (the normal dependency closure
from `cargo metadata`) are held against what the template lets it do:

- an AWS SDK client is linked  <=>  the function's policies grant actions of that service
  (aws-sdk-dynamodb/dynamodb, -s3/s3, -mediaconvert/mediaconvert, -lambda/lambda,
  -secretsmanager/secretsmanager, -kms/kms, -sesv2/ses, -transcribe/transcribe);
- an HTTP client (reqwest) is linked  <=>  the function talks to a third party (its environment
  names a Google, Webex or Zoom client, or the institutions' OpenID Connect providers);
- the layers hold: the domain crate links no AWS SDK, no HTTP client and no Lambda runtime.

Usage: check-links.py   (exit 0 when every function passes, 1 otherwise, listing each finding)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
SDK = {
    "aws-sdk-dynamodb": "dynamodb",
    "aws-sdk-s3": "s3",
    "aws-sdk-mediaconvert": "mediaconvert",
    "aws-sdk-lambda": "lambda",
    "aws-sdk-secretsmanager": "secretsmanager",
    "aws-sdk-kms": "kms",
    "aws-sdk-sesv2": "ses",
    "aws-sdk-transcribe": "transcribe",
}
THIRD_PARTY_VARS = ("VIVID_GOOGLE_CLIENT_ID", "VIVID_WEBEX_CLIENT_ID", "VIVID_ZOOM_CLIENT_ID", "VIVID_OIDC_PROVIDERS")
# Functions that call LMSs whose addresses are their registrations in the table, not the
# environment: the launch (the LMS's key set), dynamic registration (its configuration and
# registration endpoint), roster sync and the roster worker (the LMS's token endpoint and its
# roster service) and the grade worker (the token endpoint and the gradebook).
CALLS_LMS = {"lti-launch", "lti-register", "lti-roster-sync", "lti-roster-worker", "lti-grade-worker"}
# Services a function may be granted without a client of its own: passing the MediaConvert role
# to the jobs it creates.
WITHOUT_CLIENT = {"iam"}


def closures() -> dict[str, set[str]]:
    """Package name -> names of every crate it links (normal dependencies, transitively)."""
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    names = {p["id"]: p["name"] for p in meta["packages"]}
    deps: dict[str, list[str]] = {}
    for node in meta["resolve"]["nodes"]:
        deps[node["id"]] = [
            d["pkg"]
            for d in node["deps"]
            if any(k["kind"] is None for k in d["dep_kinds"])  # normal dependencies only
        ]
    out: dict[str, set[str]] = {}
    for member in meta["workspace_members"]:
        seen: set[str] = set()
        stack = [member]
        while stack:
            pid = stack.pop()
            for dep in deps.get(pid, []):
                if dep not in seen:
                    seen.add(dep)
                    stack.append(dep)
        out[names[member]] = {names[d] for d in seen}
    return out


def actions(statements) -> set[str]:
    found: set[str] = set()
    for st in statements if isinstance(statements, list) else [statements]:
        acts = st.get("Action", [])
        for a in acts if isinstance(acts, list) else [acts]:
            if isinstance(a, str) and ":" in a:
                found.add(a.split(":", 1)[0])
    return found


def granted_services(props: dict) -> set[str]:
    services: set[str] = set()
    for policy in props.get("Policies", []) or []:
        if isinstance(policy, dict) and "Statement" in policy:
            services |= actions(policy["Statement"])
        elif isinstance(policy, dict):
            # SAM policy templates, e.g. {DynamoDBReadPolicy: ...}
            for name in policy:
                services.add(name.split("Read")[0].split("Crud")[0].lower())
    return services


def main() -> int:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    links = closures()
    problems: list[str] = []
    functions = 0
    for logical, res in template["Resources"].items():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        name = str(props.get("CodeUri", "")).rstrip("/").removeprefix("functions/")
        functions += 1
        linked = links.get(name)
        if linked is None:
            problems.append(f"{logical}: no package {name}")
            continue
        granted = granted_services(props) - WITHOUT_CLIENT
        clients = {service for crate, service in SDK.items() if crate in linked}
        for service in sorted(clients - granted):
            problems.append(f"{name}: links the {service} client but the template grants it no {service} action")
        for service in sorted(granted - clients):
            problems.append(f"{name}: is granted {service} actions but links no {service} client")
        env = (props.get("Environment") or {}).get("Variables") or {}
        talks_out = any(v in env for v in THIRD_PARTY_VARS) or name in CALLS_LMS
        if "reqwest" in linked and not talks_out:
            problems.append(f"{name}: links an HTTP client (reqwest) but talks to no third party")
        if talks_out and "reqwest" not in linked:
            problems.append(f"{name}: names a third-party client but links no HTTP client")
    domain = links.get("vivid-domain", set())
    for crate in sorted(set(SDK) | {"reqwest", "lambda_http", "lambda_runtime", "aws-config"}):
        if crate in domain:
            problems.append(f"vivid-domain links {crate}: the domain must not know the SDK, HTTP or Lambda")
    for p in problems:
        print(f"check-links: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-links: {functions} functions link exactly the clients their grants use; the domain links no SDK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
