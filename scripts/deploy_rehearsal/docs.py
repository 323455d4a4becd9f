"""samconfig.toml's environments, and what docs/deploying.md has the operator create and tear
down, read from its shell blocks and inline commands."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field

from deploy_rehearsal.common import ACCOUNT, DOCS, ROOT, Failed, check_samconfig


@dataclass
class Environment:
    name: str
    stack: str
    region: str
    overrides: dict[str, str]
    capabilities: list[str]
    tags: dict[str, str]
    s3_prefix: str


def environments() -> dict[str, Environment]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    out = {}
    for env, section in config.items():
        if env == "default" or not isinstance(section, dict) or "deploy" not in section:
            continue
        deploy = section["deploy"].get("parameters", {})
        out[env] = Environment(
            name=env,
            stack=section.get("global", {}).get("parameters", {}).get("stack_name", ""),
            region=deploy.get("region", ""),
            overrides=check_samconfig.overrides(deploy),
            capabilities=str(deploy.get("capabilities", "")).split(),
            tags=dict(t.split("=", 1) for t in str(deploy.get("tags", "")).split() if "=" in t),
            s3_prefix=deploy.get("s3_prefix", ""),
        )
    return out


def shell_lines(markdown: str) -> list[tuple[str, str]]:
    """(heading, line) for each line of the fenced sh blocks, continuations joined, comments cut."""
    out, heading, block, pending = [], "", False, ""
    for line in markdown.splitlines():
        if line.startswith("```"):
            block = not block and line.strip() in ("```sh", "```bash", "```shell")
            continue
        if not block:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((heading, re.sub(r"\s#\s.*$", "", pending + line)))
        pending = ""
    return out


def inline_commands(markdown: str) -> list[tuple[str, str]]:
    out, heading, block = [], "", False
    for line in markdown.splitlines():
        if line.startswith("```"):
            block = not block
        elif not block:
            if line.startswith("#"):
                heading = line.lstrip("#").strip()
            out += [(heading, c) for c in re.findall(r"`(aws [^`]+)`", line)]
    return out


@dataclass
class Documented:
    secrets: list[str] = field(default_factory=list)  # the names create-secret is given
    topics: list[str] = field(default_factory=list)  # the names create-topic is given
    teardown: list[tuple[str, ...]] = field(default_factory=list)  # the tear-down's steps, in order
    without_region: list[str] = field(default_factory=list)


def documented(env: Environment) -> Documented:
    """What docs/deploying.md has the operator create and tear down, read from its commands, with
    the environment's names for $ENV, $STACK and $REGION."""
    doc = Documented()
    text = DOCS.read_text()
    loops: dict[str, list[str]] = {}
    variables = {"ENV": env.name, "STACK": env.stack, "REGION": env.region, "ACCOUNT": ACCOUNT}

    def expand(word: str) -> list[str]:
        """A word with the loop variables (one word per value) and the variables replaced."""
        for var, values in loops.items():
            token = re.compile(rf"\$\{{{var}\}}|\${var}(?!\w)")
            if token.search(word):
                return [w for v in values for w in expand(token.sub(v, word))]
        return [re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), word)]

    for heading, cmd in inline_commands(text):
        if "--region" not in cmd:
            doc.without_region.append(f"{heading}: {cmd}")
    for heading, line in shell_lines(text):
        in_teardown = heading.lower().startswith("tear-down")
        if m := re.search(r"\bfor (\w+) in ([^;]+);", line):
            loops[m.group(1)] = m.group(2).split()
        if in_teardown and (m := re.search(r"\bbucket=(\S+)", line)):
            doc.teardown += [("bucket", b) for b in expand(m.group(1))]
        for m in re.finditer(r"\b(sam|aws) ([\w-]+)(?: ([\w-]+))?([^;|&)]*)", line):
            tool, service, operation, rest = m.group(1), m.group(2), m.group(3) or "", m.group(4)
            if tool == "aws" and "--region" not in rest:
                doc.without_region.append(f"{heading}: {m.group(0).strip()}")
            name = re.search(r"--name (\S+)", rest)
            if (service, operation) == ("secretsmanager", "create-secret") and name:
                doc.secrets += expand(name.group(1))
            elif (service, operation) == ("sns", "create-topic") and name:
                doc.topics += expand(name.group(1))
            if not in_teardown:
                continue
            arg = {k: v for k, v in re.findall(r"--([\w-]+) (\S+)", rest)}
            assigned = re.match(r"\s*(\w+)=\$\(", line)
            if (service, operation) == ("cloudformation", "describe-stack-resource") and assigned:
                doc.teardown.append(("read", assigned.group(1), arg["logical-resource-id"]))
            elif tool == "sam" and service == "delete":
                doc.teardown.append(("sam delete",))
            elif (service, operation) == ("dynamodb", "delete-table"):
                doc.teardown.append(("delete-table", arg["table-name"].lstrip("$")))
            elif (service, operation) == ("kms", "schedule-key-deletion"):
                doc.teardown.append(
                    ("schedule-key-deletion", arg["key-id"].lstrip("$"), arg.get("pending-window-in-days", "30"))
                )
            elif (service, operation) == ("secretsmanager", "delete-secret"):
                doc.teardown += [("delete-secret", s) for s in expand(arg["secret-id"])]
            elif (service, operation) == ("sns", "delete-topic"):
                doc.teardown += [("delete-topic", t) for t in expand(arg["topic-arn"])]
            elif (service, operation) not in {
                ("sts", "get-caller-identity"),
                ("s3api", "list-object-versions"),
                ("s3api", "delete-objects"),
                ("s3", "rb"),
            }:
                raise Failed(f"docs/deploying.md's tear-down has a command the rehearsal does not replay: {m.group(0)}")
    return doc
