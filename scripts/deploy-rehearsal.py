#!/usr/bin/env python3
"""The first deploy on a new account, rehearsed offline against moto's CloudFormation.

samconfig.toml's dev environment is deployed into a fresh mocked account the way
docs/deploying.md tells an operator to, with boto3 equivalents of its commands:

1. step 3's keys (an ES256 pair, an RSA 2048 pair); the secrets and the alarm topic that step 4's
   commands create (their names read from the docs); an ACM certificate where the environment
   names one. Every `<...>` of samconfig.toml's `parameter_overrides` is filled with what those
   commands return (a secret's full ARN, the topic's ARN, a key); a value only a person can give
   (an OAuth client id, the SES identity) gets a stand-in, listed.
2. The values held against the template's parameter constraints and `Rules`, and CloudFormation's
   request limits, as CloudFormation does before it creates anything (moto checks none of them).
3. The template packaged and transformed with scripts/check-template.py's code (the pinned
   aws-sam-translator, with these parameter values), artifacts and template uploaded to SAM's
   managed bucket (`resolve_s3`), CreateStack with the TemplateURL, the stack-create waiter.

It asserts CREATE_COMPLETE; the buckets named `{stack}-{raw|media|user}-{account}-{region}`, the
table, every function and rule there; no concurrency reserved (a new account's quota is 10, all of
it unreserved). Then:

(a) prod's parameters as a second stack in the same account and region: created, no physical id
    shared, dev unchanged; and, statically, every name the template fixes (every type, moto's or
    not) unique within its scope for dev beside prod and for one stack name in two regions;
(b) the documented tear-down, command by command: the kept ids read, `sam delete`, the table,
    buckets and key still there (and a deploy in between refused for the taken bucket names), the
    buckets emptied by pages and removed, the table deleted, the key scheduled for deletion,
    secrets and topic deleted; nothing of the stack left, prod untouched; the same name again;
(c) in a fresh account, a first create that fails after the kept resources exist (an injected
    resource that fails): the documented recovery (delete the stack, deploy again with the same
    name) succeeds; and a value that fails its constraint (a secret's name for its ARN) is
    refused before anything exists.

moto's gaps are reported, never filled in: resource types its CloudFormation does not implement
are listed as not rehearsed (a reference to one becomes a marked `not-rehearsed:...` string); it
does not roll back a failed create; it keeps only `Retain` on delete, so `RetainExceptOnCreate`
is applied by this script once a create has completed (CloudFormation's meaning of it); it
applies a bucket's name, encryption and tags, not its versioning, lifecycle or notifications.

Usage: deploy-rehearsal.py   (with .venv/bin/python; exit 0 when every check passes)
"""

from __future__ import annotations

import collections
import copy
import importlib.util
import io
import json
import logging
import os
import re
import sys
import time
import tomllib
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "deploying.md"

# Every call goes to the in-process mock; no credential of the environment is read.
for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(variable, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_CONFIG_FILE=os.devnull,
    AWS_SHARED_CREDENTIALS_FILE=os.devnull,
)


def _load(name: str, path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# The transform and the samconfig reading of the lint checks, imported, not copied.
check_template = _load("check_template", ROOT / "scripts" / "check-template.py")
check_samconfig = _load("check_samconfig", ROOT / "scripts" / "check-samconfig.py")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError, WaiterError  # noqa: E402
from botocore.parsers import ResponseParserError  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from moto import mock_aws  # noqa: E402
from moto.cloudformation.parsing import get_model_map  # noqa: E402

ACCOUNT = "123456789012"  # moto's default account; each `mock_aws()` is a fresh one
BOTO = Config(retries={"max_attempts": 1})
FAST = {"Delay": 1, "MaxAttempts": 30}
KEPT_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")
# CloudFormation's request limits: a TemplateURL's template, a parameter's value.
TEMPLATE_URL_BYTES, PARAMETER_BYTES = 1_000_000, 4_096
# Where each name a template may fix must be unique: S3 everywhere, CloudFront and IAM in the
# account, the rest in the region.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": (("BucketName",), "global"),
    "AWS::CloudFront::PublicKey": (("PublicKeyConfig", "Name"), "account"),
    "AWS::CloudFront::KeyGroup": (("KeyGroupConfig", "Name"), "account"),
    "AWS::CloudFront::OriginAccessControl": (("OriginAccessControlConfig", "Name"), "account"),
    "AWS::CloudFront::ResponseHeadersPolicy": (("ResponseHeadersPolicyConfig", "Name"), "account"),
    "AWS::CloudFront::CachePolicy": (("CachePolicyConfig", "Name"), "account"),
    "AWS::IAM::Role": (("RoleName",), "account"),
    "AWS::IAM::ManagedPolicy": (("ManagedPolicyName",), "account"),
    "AWS::Logs::LogGroup": (("LogGroupName",), "region"),
    "AWS::CloudWatch::Alarm": (("AlarmName",), "region"),
    "AWS::Lambda::Function": (("FunctionName",), "region"),
    "AWS::DynamoDB::Table": (("TableName",), "region"),
    "AWS::SQS::Queue": (("QueueName",), "region"),
    "AWS::SNS::Topic": (("TopicName",), "region"),
    "AWS::Events::Rule": (("Name",), "region"),
    "AWS::SecretsManager::Secret": (("Name",), "region"),
    "AWS::KMS::Alias": (("AliasName",), "region"),
    "AWS::ApiGatewayV2::DomainName": (("DomainName",), "region"),
}
# Findings the template still has, each documented as a caveat in docs/deploying.md: printed, not
# failing. One that no longer occurs fails, so that it comes off this list.
KNOWN_FINDINGS = {
    "one stack name in two regions of one account collides on CloudFront names": (
        "documented: a stack name must be unique in the account, CloudFront names being the account's"
    ),
}


class Failed(Exception):
    pass


def check(condition: Any, message: str) -> None:
    if not condition:
        raise Failed(message)


def say(line: str) -> None:
    print(line, flush=True)


# ---- samconfig.toml and docs/deploying.md ---------------------------------------------------


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


# ---- what the operator does before the deploy ----------------------------------------------


@dataclass
class Setup:
    parameters: dict[str, str]
    stand_ins: list[str]  # parameters given a stand-in (a value only a person can give)
    secrets: dict[str, str]  # name -> ARN
    topics: dict[str, str]  # name -> ARN


def step3_keys() -> dict[str, str]:
    """Step 3: the ES256 signing pair and JwtVerifyKeys, the CloudFront RSA 2048 pair."""
    kid = "2026-01"
    pem, pkcs8, spki = (
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    signing = ec.generate_private_key(ec.SECP256R1())
    cdn = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = signing.private_bytes(pem, pkcs8, serialization.NoEncryption()).decode()
    return {
        "jwt-verify-keys.json": json.dumps(
            {kid: signing.public_key().public_bytes(pem, spki).decode()}, separators=(",", ":")
        ),
        "jwt-signing-key.json": json.dumps({"kid": kid, "privateKeyPem": private}, separators=(",", ":")),
        "cdn-public.pem": cdn.public_key().public_bytes(pem, spki).decode().rstrip("\n"),
        "cdn-private.pem": cdn.private_bytes(pem, pkcs8, serialization.NoEncryption()).decode(),
    }


def prepare(env: Environment, doc: Documented, keys: dict[str, str]) -> Setup:
    """Steps 2-4's commands (certificates, secrets, topic), then samconfig's `<...>` filled in."""
    sm = boto3.client("secretsmanager", region_name=env.region, config=BOTO)
    sns = boto3.client("sns", region_name=env.region, config=BOTO)
    check(doc.secrets, "docs/deploying.md creates no secret")
    secrets, topics = {}, {}
    for name in doc.secrets:
        value = {"jwt-signing-key": keys["jwt-signing-key.json"], "cdn-private-key": keys["cdn-private.pem"]}.get(
            name.rsplit("/", 1)[-1], f"rehearsal value of {name}"
        )
        secrets[name] = sm.create_secret(Name=name, SecretString=value)["ARN"]
    for name in doc.topics:
        topics[name] = sns.create_topic(Name=name)["TopicArn"]
    parameters, stand_ins = {}, []
    for key, value in env.overrides.items():
        placeholder = re.search(r"<([^>]*)>", value)
        if not placeholder:
            parameters[key] = value
            continue
        inner = placeholder.group(1)
        arn = re.fullmatch(r"arn:aws:(\w+):([\w-]+):ACCOUNT:(.*)", inner)
        if arn and arn.group(1) == "secretsmanager":
            name = re.sub(r"^secret:|-AbCdEf$", "", arn.group(3))
            check(
                name in secrets,
                f"[{env.name}] {key}: samconfig names the secret {name}; docs/deploying.md does not create it",
            )
            parameters[key] = secrets[name]
        elif arn and arn.group(1) == "sns":
            check(
                arn.group(3) in topics,
                f"[{env.name}] {key}: samconfig names the topic {arn.group(3)}; docs/deploying.md does not create it",
            )
            parameters[key] = topics[arn.group(3)]
        elif arn and arn.group(1) == "acm":  # step 2: aws acm request-certificate --region ...
            region = env.region if arn.group(2) == "REGION" else arn.group(2)
            domain = env.overrides.get(key.replace("CertificateArn", "DomainName"), "example.com")
            acm = boto3.client("acm", region_name=region, config=BOTO)
            parameters[key] = acm.request_certificate(DomainName=domain, ValidationMethod="DNS")["CertificateArn"]
        elif "jwt-verify-keys.json" in inner or "cdn-public.pem" in inner:
            parameters[key] = keys["jwt-verify-keys.json" if "jwt-verify-keys.json" in inner else "cdn-public.pem"]
        else:
            example = re.search(r"e\.g\. (\S+)", inner)
            if example:  # "<a domain ..., e.g. dev.example.com>"
                filler = example.group(1)
            elif " " not in inner:  # "<no-reply@dev.example.com>"
                filler = inner
            else:  # "<Zoom OAuth app client id>"
                filler = "rehearsal-" + re.sub(r"\W+", "-", inner).strip("-").lower()
            parameters[key] = value.replace(f"<{inner}>", filler)
            stand_ins.append(key)
    return Setup(parameters, stand_ins, secrets, topics)


# ---- CloudFormation's checks before a create (moto makes none) ------------------------------


def evaluate(node: Any, values: dict[str, str], conditions: dict[str, Any]) -> Any:
    """A condition's or a rule's value: Ref, Condition, Fn::Equals, Fn::Not, Fn::And, Fn::Or."""
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return values.get(arg, "")
        if fn == "Condition":
            return evaluate(conditions[arg], values, conditions)
        if fn == "Fn::Equals":
            return str(evaluate(arg[0], values, conditions)) == str(evaluate(arg[1], values, conditions))
        if fn == "Fn::Not":
            return not evaluate(arg[0], values, conditions)
        if fn == "Fn::And":
            return all(evaluate(a, values, conditions) for a in arg)
        if fn == "Fn::Or":
            return any(evaluate(a, values, conditions) for a in arg)
        raise Failed(f"{fn} in a condition or rule: the rehearsal does not evaluate it")
    return node


def values_of(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    return {k: str(p.get("Default", "")) for k, p in (template.get("Parameters") or {}).items()} | given


def refused(template: dict[str, Any], given: dict[str, str]) -> list[str]:
    """What CloudFormation refuses before creating anything: parameters (unknown, missing, against
    their constraints), rule assertions, a value over 4,096 bytes."""
    problems = []
    declared = template.get("Parameters") or {}
    problems += [f"Parameters: [{n}] do not exist in the template" for n in given if n not in declared]
    for name, p in declared.items():
        value = given.get(name, p.get("Default"))
        if value is None:
            problems.append(f"Parameters: [{name}] must have values")
            continue
        value = str(value)
        if len(value.encode()) > PARAMETER_BYTES:
            problems.append(f"Parameter '{name}' is over {PARAMETER_BYTES} bytes")
        if p.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                problems.append(f"Parameter '{name}' must be a number")
                continue
            if "MinValue" in p and number < float(p["MinValue"]):
                problems.append(f"Parameter '{name}' must be a number not less than {p['MinValue']}")
            if "MaxValue" in p and number > float(p["MaxValue"]):
                problems.append(f"Parameter '{name}' must be a number not greater than {p['MaxValue']}")
        if "AllowedValues" in p and value not in [str(v) for v in p["AllowedValues"]]:
            problems.append(f"Parameter '{name}' must be one of AllowedValues")
        if "AllowedPattern" in p and not re.fullmatch(p["AllowedPattern"], value, re.S):
            problems.append(
                f"Parameter '{name}' failed to satisfy constraint: {p.get('ConstraintDescription') or 'must match pattern ' + p['AllowedPattern']}"
            )
        if "MinLength" in p and len(value) < int(p["MinLength"]):
            problems.append(f"Parameter '{name}' must contain at least {p['MinLength']} characters")
        if "MaxLength" in p and len(value) > int(p["MaxLength"]):
            problems.append(f"Parameter '{name}' must contain at most {p['MaxLength']} characters")
    values = values_of(template, given)
    for name, rule in (template.get("Rules") or {}).items():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], values, {}):
            continue
        problems += [
            f"Rule {name}: {a.get('AssertDescription', 'assertion failed')}"
            for a in rule.get("Assertions", [])
            if not evaluate(a["Assert"], values, {})
        ]
    return problems


def active(transformed: dict[str, Any], given: dict[str, str]) -> set[str]:
    """The logical ids CloudFormation creates with these values (no Condition, or a true one)."""
    values, conditions = values_of(transformed, given), transformed.get("Conditions") or {}
    return {
        k
        for k, r in transformed["Resources"].items()
        if "Condition" not in r or evaluate(conditions[r["Condition"]], values, conditions)
    }


# ---- package, transform, create -------------------------------------------------------------


_SOURCE: list[dict[str, Any]] = []


def source_template() -> dict[str, Any]:
    """template.yaml, parsed once (a copy each time)."""
    if not _SOURCE:
        _SOURCE.append(check_template.yaml_parse((ROOT / "template.yaml").read_text()))
    return copy.deepcopy(_SOURCE[0])


def transform(parameters: dict[str, str]) -> dict[str, Any]:
    """The SAM transform as CloudFormation runs it, with the parameter values given."""
    return check_template.transform(
        check_template.package(source_template()), parameters, check_template.ManagedPolicyStub()
    )


def _json_first(parse: Any) -> Any:
    """moto parses a template with the pure-Python YAML loader first (about 1.5 s for this one);
    the rehearsal submits JSON, which it reads as JSON: the same document, parsed in milliseconds."""

    def parse_template(template: str) -> dict[str, Any]:
        try:
            return json.loads(template)
        except (TypeError, ValueError):
            return parse(template)

    return staticmethod(parse_template)


from moto.cloudformation.models import Stack  # noqa: E402

Stack.parse_template = _json_first(Stack.parse_template)


def stand_in(node: Any, unsupported: set[str], count: collections.Counter) -> Any:
    """A reference to a resource moto's CloudFormation does not implement becomes a marked string
    (on a GetAtt moto fails the create, a Ref it drops with the property holding it)."""
    if isinstance(node, list):
        return [stand_in(v, unsupported, count) for v in node]
    if not isinstance(node, dict):
        return node
    if len(node) == 1 and isinstance(node.get("Ref"), str) and node["Ref"] in unsupported:
        count[node["Ref"]] += 1
        return f"not-rehearsed:{node['Ref']}"
    if len(node) == 1 and "Fn::GetAtt" in node:
        target = node["Fn::GetAtt"]
        target = target.split(".", 1) if isinstance(target, str) else target
        if target[0] in unsupported:
            count[target[0]] += 1
            return f"not-rehearsed:{target[0]}.{target[1]}"
    if len(node) == 1 and "Fn::Sub" in node:
        sub = node["Fn::Sub"]
        text, variables = (sub[0], sub[1]) if isinstance(sub, list) else (sub, {})

        def replace(m: re.Match) -> str:
            name = m.group(1)
            if name.split(".", 1)[0] not in unsupported or name in variables:
                return m.group(0)
            count[name.split(".", 1)[0]] += 1
            return f"not-rehearsed-{name.replace('.', '-')}"

        text = re.sub(r"\$\{([^!}][^}]*)\}", replace, text)
        return {"Fn::Sub": [text, stand_in(variables, unsupported, count)] if isinstance(sub, list) else text}
    return {k: stand_in(v, unsupported, count) for k, v in node.items()}


class MotoLog(logging.Handler):
    """moto's own account of what it skipped: "No Moto CloudFormation support for X"."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.skipped: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if m := re.match(r"No Moto CloudFormation support for (\S+)", record.getMessage()):
            self.skipped.add(m.group(1))


MOTO_LOG = MotoLog()
logging.getLogger("moto").addHandler(MOTO_LOG)
logging.getLogger("moto").propagate = False
warnings.filterwarnings("ignore", message="Tried to parse")
warnings.filterwarnings("ignore", message=r"Exception\(\w+\) with code")


@dataclass
class Deployed:
    env: Environment
    setup: Setup
    transformed: dict[str, Any]
    unsupported: dict[str, str]  # logical id -> type, of those the parameters create
    stand_ins: collections.Counter
    seconds: float
    template_bytes: int
    resources: list[dict[str, Any]] = field(default_factory=list)


def managed_bucket(region: str) -> str:
    """SAM's managed artifacts bucket (`resolve_s3`), made once per account and region."""
    s3 = boto3.client("s3", region_name=region, config=BOTO)
    name = "aws-sam-cli-managed-default-samclisourcebucket-rehearsal"
    if name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    return name


def deploy(
    env: Environment, setup: Setup, transformed: dict[str, Any] | None = None, inject: dict[str, Any] | None = None
) -> Deployed:
    """`sam deploy --config-env ENV`: checks, package, upload, create, wait."""
    started = time.monotonic()
    source = source_template()
    problems = refused(source, setup.parameters)
    if problems:
        raise ClientError({"Error": {"Code": "ValidationError", "Message": "; ".join(problems)}}, "CreateStack")
    packaged_bytes = len(json.dumps(check_template.package(source)).encode())
    check(
        packaged_bytes <= TEMPLATE_URL_BYTES,
        f"the packaged template is {packaged_bytes:,} bytes, over CloudFormation's 1 MB",
    )
    transformed = copy.deepcopy(transformed if transformed is not None else transform(setup.parameters))
    bucket = managed_bucket(env.region)
    s3 = boto3.client("s3", region_name=env.region, config=BOTO)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n# stands in for the cargo-lambda build\n")
    for logical_id, resource in transformed["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            code = resource["Properties"]["Code"]
            code["S3Bucket"], code["S3Key"] = bucket, f"{env.s3_prefix}/{logical_id}.zip"
            s3.put_object(Bucket=bucket, Key=code["S3Key"], Body=archive.getvalue())
    transformed["Resources"].update(inject or {})
    models = get_model_map()
    lacking = {k for k, r in transformed["Resources"].items() if r["Type"] not in models}
    made = active(transformed, setup.parameters)
    count: collections.Counter = collections.Counter()
    submitted = stand_in(transformed, lacking, count)
    key = f"{env.s3_prefix}/{env.stack}.template"
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(submitted).encode())
    cf = boto3.client("cloudformation", region_name=env.region, config=BOTO)
    # `sam deploy` creates a change set and executes it; moto's change-set execution computes no
    # outputs and turns no failure into a stack status, so the rehearsal calls CreateStack, the
    # same create in CloudFormation.
    try:
        cf.create_stack(
            StackName=env.stack,
            TemplateURL=f"https://{bucket}.s3.{env.region}.amazonaws.com/{key}",
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in setup.parameters.items()],
            Capabilities=env.capabilities,
            Tags=[{"Key": k, "Value": v} for k, v in env.tags.items()],
        )
    except ResponseParserError as e:
        # moto answers CreateStack with the failing service's own (JSON) error; botocore cannot
        # read it as CloudFormation's
        message = re.search(r'"message": "([^"]*)"', str(e), re.I)
        raise ClientError(
            {"Error": {"Code": "CreateFailed", "Message": message.group(1) if message else str(e)}}, "CreateStack"
        ) from None
    cf.get_waiter("stack_create_complete").wait(StackName=env.stack, WaiterConfig=FAST)
    deployed = Deployed(
        env,
        setup,
        transformed,
        {k: transformed["Resources"][k]["Type"] for k in lacking & made},
        count,
        time.monotonic() - started,
        packaged_bytes,
    )
    deployed.resources = list_resources(cf, env.stack)
    return deployed


def list_resources(cf: Any, stack: str) -> list[dict[str, Any]]:
    out, token = [], None
    while True:
        page = cf.list_stack_resources(StackName=stack, **({"NextToken": token} if token else {}))
        # moto lists what it did not create (a type it lacks, a false condition) with no id or type
        out += [r for r in page["StackResourceSummaries"] if r["LogicalResourceId"]]
        token = page.get("NextToken")
        if not token:
            return out


def delete_stack(env: Environment) -> None:
    cf = boto3.client("cloudformation", region_name=env.region, config=BOTO)
    cf.delete_stack(StackName=env.stack)
    cf.get_waiter("stack_delete_complete").wait(StackName=env.stack, WaiterConfig=FAST)


def stack_status(env: Environment) -> str:
    cf = boto3.client("cloudformation", region_name=env.region, config=BOTO)
    try:
        return cf.describe_stacks(StackName=env.stack)["Stacks"][0]["StackStatus"]
    except ClientError:
        return "no stack"


def keep_except_on_create(env: Environment) -> list[str]:
    """CloudFormation keeps a `RetainExceptOnCreate` resource on every delete once the create that
    made it has completed; moto keeps only `Retain`. So, once a create has completed, the
    rehearsal marks those resources `Retain` in moto's copy of the template."""
    from moto.cloudformation.models import cloudformation_backends

    marked = []
    for stack in cloudformation_backends[ACCOUNT][env.region].stacks.values():
        if stack.name == env.stack and stack.status == "CREATE_COMPLETE":
            for logical_id, resource in stack.resource_map._resource_json_map.items():
                if resource.get("DeletionPolicy") == "RetainExceptOnCreate":
                    resource["DeletionPolicy"] = "Retain"
                    marked.append(logical_id)
    return sorted(marked)


def key_state(region: str, key_id: str) -> str:
    """A key's KeyState, from moto's backend: moto's DescribeKey fails (TypeError) on a key whose
    policy CloudFormation set."""
    from moto.kms.models import kms_backends

    try:
        return kms_backends[ACCOUNT][region].describe_key(key_id).key_state
    except KeyError:
        return "gone"


def physical(deployed: Deployed, kind: str) -> dict[str, str]:
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in deployed.resources if r["ResourceType"] == kind}


def function_names(region: str) -> list[str]:
    lam = boto3.client("lambda", region_name=region, config=BOTO)
    return [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate() for f in p["Functions"]]


def assert_created(deployed: Deployed) -> list[str]:
    """CREATE_COMPLETE; buckets, table, functions and rules there, named as expected; every
    resource of an implemented type in the stack; no concurrency reserved."""
    env = deployed.env
    r = env.region
    s3 = boto3.client("s3", region_name=r, config=BOTO)
    ddb = boto3.client("dynamodb", region_name=r, config=BOTO)
    lam = boto3.client("lambda", region_name=r, config=BOTO)
    events = boto3.client("events", region_name=r, config=BOTO)
    status = stack_status(env)
    check(status == "CREATE_COMPLETE", f"[{env.stack}] stack status {status}")
    wanted = active(deployed.transformed, deployed.setup.parameters) - set(deployed.unsupported)
    missing = sorted(wanted - {x["LogicalResourceId"] for x in deployed.resources})
    check(not missing, f"[{env.stack}] resources of implemented types not in the stack: {missing[:5]}")
    buckets = physical(deployed, "AWS::S3::Bucket")
    expected = {f"{env.stack}-{kind}-{ACCOUNT}-{r}" for kind in ("raw", "media", "user")}  # docs/deploying.md's names
    check(
        set(buckets.values()) == expected,
        f"[{env.stack}] buckets {sorted(buckets.values())}, expected {sorted(expected)}",
    )
    for name in buckets.values():
        check(len(name) <= 63, f"[{env.stack}] bucket {name} is over S3's 63 characters")
        check(s3.get_bucket_location(Bucket=name)["LocationConstraint"] == r, f"[{env.stack}] bucket {name} not in {r}")
    tables = physical(deployed, "AWS::DynamoDB::Table")
    for name in tables.values():
        check(
            ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE",
            f"[{env.stack}] table {name} not ACTIVE",
        )
    functions = physical(deployed, "AWS::Lambda::Function")
    reserved = 0
    for name in functions.values():
        check(name.startswith(env.stack + "-"), f"[{env.stack}] function {name} does not carry the stack name")
        lam.get_function(FunctionName=name)
        reserved += int(lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") or 0)
    check(reserved == 0, f"[{env.stack}] reserves {reserved} concurrency: a new account (quota 10) can reserve none")
    rules = physical(deployed, "AWS::Events::Rule")
    for name in rules.values():
        rule = events.describe_rule(Name=name.split("|")[-1])
        check(rule["State"] == "ENABLED", f"[{env.stack}] rule {name} is {rule['State']}")
    return [
        f"buckets {', '.join(sorted(buckets.values()))}",
        f"table {', '.join(tables.values())}; {len(functions)} functions (none reserving concurrency); {len(rules)} rules enabled",
    ]


# ---- the static name check (every type, moto's or not) -------------------------------------


def fixed_names(deployed: Deployed, region: str) -> dict[tuple[str, str], list[str]]:
    """(scope, type and name) -> logical ids, for every name the template fixes. A name built on
    a generated one (`/aws/lambda/${Function}`) is as unique as that one and left out."""
    stack = deployed.env.stack
    values = values_of(deployed.transformed, deployed.setup.parameters) | {
        "AWS::StackName": stack,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }
    made = active(deployed.transformed, deployed.setup.parameters)
    out: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for logical_id, resource in deployed.transformed["Resources"].items():
        if logical_id not in made or resource["Type"] not in NAME_PROPERTIES:
            continue
        path, scope = NAME_PROPERTIES[resource["Type"]]
        node: Any = resource.get("Properties") or {}
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get("Ref"), str):
            node = values.get(node["Ref"])
        elif isinstance(node, dict) and isinstance(node.get("Fn::Sub"), str):
            names = re.findall(r"\$\{([^!}][^}]*)\}", node["Fn::Sub"])
            node = (
                None
                if any(n not in values for n in names)
                else re.sub(r"\$\{([^!}][^}]*)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
            )
        if isinstance(node, str) and node:
            where = {"global": "all accounts", "account": f"account {ACCOUNT}", "region": f"{ACCOUNT} {region}"}[scope]
            out[(where, f"{resource['Type']} {node}")].append(f"{stack}@{region}/{logical_id}")
    return out


def collisions(*name_sets: dict[tuple[str, str], list[str]]) -> list[str]:
    merged: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for names in name_sets:
        for key, ids in names.items():
            merged[key] += ids
    return sorted(f"{name} ({scope}: {', '.join(ids)})" for (scope, name), ids in merged.items() if len(ids) > 1)


# ---- (b): the documented tear-down ----------------------------------------------------------


def fill_buckets(deployed: Deployed) -> int:
    """What a stack in use holds: objects written, overwritten, deleted, in every bucket."""
    s3 = boto3.client("s3", region_name=deployed.env.region, config=BOTO)
    writes = 0
    for name in physical(deployed, "AWS::S3::Bucket").values():
        for i in range(3):
            for body in (b"v1", b"v2"):
                s3.put_object(Bucket=name, Key=f"rehearsal/{i}", Body=body)
                writes += 1
        s3.delete_object(Bucket=name, Key="rehearsal/0")
    return writes


def teardown(deployed: Deployed, doc: Documented) -> list[str]:
    """docs/deploying.md's tear-down, step by step in its order (boto3 equivalents)."""
    env = deployed.env
    r = env.region
    cf = boto3.client("cloudformation", region_name=r, config=BOTO)
    s3 = boto3.client("s3", region_name=r, config=BOTO)
    ddb = boto3.client("dynamodb", region_name=r, config=BOTO)
    kms = boto3.client("kms", region_name=r, config=BOTO)
    sm = boto3.client("secretsmanager", region_name=r, config=BOTO)
    sns = boto3.client("sns", region_name=r, config=BOTO)
    check(doc.teardown, "docs/deploying.md has no tear-down")
    read: dict[str, str] = {}
    lines = []
    kept = {k for k, res in deployed.transformed["Resources"].items() if res.get("DeletionPolicy") in KEPT_POLICIES}
    names = {x["LogicalResourceId"]: x["PhysicalResourceId"] for x in deployed.resources}
    for step in doc.teardown:
        if step[0] == "read":
            # describe-stack-resource, answered from ListStackResources: moto's DescribeStackResource
            # fails (AttributeError) on a stack holding a type it does not implement
            listed = {x["LogicalResourceId"]: x["PhysicalResourceId"] for x in list_resources(cf, env.stack)}
            check(step[2] in listed, f"the tear-down reads {step[2]}, which the stack does not have")
            read[step[1]] = listed[step[2]]
        elif step[0] == "sam delete":
            delete_stack(env)  # the stack, then its artifacts in SAM's bucket
            bucket = managed_bucket(r)
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{env.s3_prefix}/"):
                for obj in page.get("Contents", []):
                    s3.delete_object(Bucket=bucket, Key=obj["Key"])
            for logical_id in sorted(kept):
                kind = deployed.transformed["Resources"][logical_id]["Type"]
                if kind == "AWS::S3::Bucket":
                    s3.head_bucket(Bucket=names[logical_id])
                elif kind == "AWS::DynamoDB::Table":
                    ddb.describe_table(TableName=names[logical_id])
                elif kind == "AWS::KMS::Key":
                    check(key_state(r, names[logical_id]) == "Enabled", f"{logical_id} was not kept")
            check(
                not [f for f in function_names(r) if f.startswith(env.stack + "-")], "functions left after sam delete"
            )
            lines.append(f"sam delete: the stack gone, kept as CloudFormation keeps them: {', '.join(sorted(kept))}")
            try:  # the same name before the tear-down: the kept buckets' names are taken
                deploy(env, deployed.setup, transformed=deployed.transformed)
                error = ""
            except (ClientError, WaiterError) as e:
                error = str(e).split(": ", 1)[-1]
            check(error, "deploying again beside the kept buckets succeeded")
            delete_stack(env)
            lines.append(f"deploying again before the tear-down fails ({error[:48]}...): the tear-down is needed")
        elif step[0] == "bucket":
            pages = 0
            while True:  # list-object-versions --no-paginate (at most 1,000), delete-objects; then s3 rb
                listed = s3.list_object_versions(Bucket=step[1], MaxKeys=1000)
                objects = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
                ]
                if not objects:
                    break
                s3.delete_objects(Bucket=step[1], Delete={"Objects": objects})
                pages += 1
            s3.delete_bucket(Bucket=step[1])
            lines.append(f"{step[1]}: emptied ({pages} page), removed")
        elif step[0] == "delete-table":
            check(
                step[1] in read, f"the tear-down deletes the table ${step[1]}, which it has not read before the delete"
            )
            ddb.delete_table(TableName=read[step[1]])
        elif step[0] == "schedule-key-deletion":
            check(
                step[1] in read, f"the tear-down schedules the key ${step[1]}, which it has not read before the delete"
            )
            kms.schedule_key_deletion(KeyId=read[step[1]], PendingWindowInDays=int(step[2]))
        elif step[0] == "delete-secret":
            sm.delete_secret(SecretId=step[1], ForceDeleteWithoutRecovery=True)
        elif step[0] == "delete-topic":
            sns.delete_topic(TopicArn=step[1])
    return lines


def leftovers(deployed: Deployed) -> list[str]:
    """Whatever of the stack and its set-up is still billable: buckets, table, keys not pending
    deletion, secrets, topics, functions, log groups."""
    env, setup, r = deployed.env, deployed.setup, deployed.env.region
    s3 = boto3.client("s3", region_name=r, config=BOTO)
    ddb = boto3.client("dynamodb", region_name=r, config=BOTO)
    sm = boto3.client("secretsmanager", region_name=r, config=BOTO)
    sns = boto3.client("sns", region_name=r, config=BOTO)
    logs = boto3.client("logs", region_name=r, config=BOTO)
    left = [f"bucket {b['Name']}" for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(env.stack + "-")]
    left += [f"table {t}" for t in ddb.list_tables()["TableNames"] if t.startswith(env.stack + "-")]
    left += [
        f"key {k}"
        for k in physical(deployed, "AWS::KMS::Key").values()
        if key_state(r, k) not in ("PendingDeletion", "gone")
    ]
    left += [f"secret {s['Name']}" for s in sm.list_secrets()["SecretList"] if s["Name"] in setup.secrets]
    left += [f"topic {t['TopicArn']}" for t in sns.list_topics()["Topics"] if t["TopicArn"] in setup.topics.values()]
    left += [f"function {f}" for f in function_names(r) if f.startswith(env.stack + "-")]
    left += [
        f"log group {g['logGroupName']}"
        for p in logs.get_paginator("describe_log_groups").paginate()
        for g in p["logGroups"]
        if env.stack in g["logGroupName"]
    ]
    return left


def failing_resource(transformed: dict[str, Any]) -> dict[str, Any]:
    """A resource that fails once the kept ones exist (a bucket name over S3's 63 characters), for
    any late failure of a first create (a refused reservation, a name taken elsewhere)."""
    kept = sorted(k for k, r in transformed["Resources"].items() if r.get("DeletionPolicy") in KEPT_POLICIES)
    return {
        "RehearsalFailingBucket": {
            "Type": "AWS::S3::Bucket",
            "DependsOn": kept,
            "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-failing-" + "x" * 64}},
        }
    }


def by_type(counter: dict[str, int]) -> str:
    return ", ".join(f"{k.split('::', 1)[1]} {v}" for k, v in sorted(counter.items()))


# ---- the rehearsal --------------------------------------------------------------------------


def main() -> int:
    started = time.monotonic()
    envs = environments()
    check({"dev", "prod"} <= set(envs), "samconfig.toml needs a dev and a prod environment")
    dev, prod = envs["dev"], envs["prod"]
    check(dev.region == prod.region, "dev and prod deploy to different regions; (a) rehearses one")
    doc_dev, doc_prod = documented(dev), documented(prod)
    findings = [f"docs/deploying.md: a command without --region: {c}" for c in doc_dev.without_region]
    keys = step3_keys()
    stacks = 0

    with mock_aws():
        setup = prepare(dev, doc_dev, keys)
        first = deploy(dev, setup)
        stacks += 1
        say(
            f"dev: {dev.stack} in {dev.region} of a new account: CREATE_COMPLETE in {first.seconds:.1f} s "
            f"(packaged template {first.template_bytes:,} bytes)"
        )
        for line in assert_created(first):
            say(f"  {line}")
        created = collections.Counter(x["ResourceType"] for x in first.resources)
        skipped = collections.Counter(first.unsupported.values())
        check(
            MOTO_LOG.skipped <= set(skipped),
            f"moto skipped types the rehearsal did not count: {MOTO_LOG.skipped - set(skipped)}",
        )
        say(f"  created by moto: {sum(created.values())} resources: {by_type(created)}")
        say(
            f"  NOT REHEARSED, types moto's CloudFormation does not implement: {sum(skipped.values())} resources: {by_type(skipped)}"
        )
        say(f"    {sum(first.stand_ins.values())} references to them hold a marked `not-rehearsed:...` string")
        s3 = boto3.client("s3", region_name=dev.region, config=BOTO)
        versioned = [
            k
            for k, res in first.transformed["Resources"].items()
            if res["Type"] == "AWS::S3::Bucket"
            and (res["Properties"].get("VersioningConfiguration") or {}).get("Status") == "Enabled"
        ]
        unapplied = [
            k
            for k in versioned
            if s3.get_bucket_versioning(Bucket=physical(first, "AWS::S3::Bucket")[k]).get("Status") != "Enabled"
        ]
        if unapplied:
            say(
                f"  NOT REHEARSED, bucket properties moto does not apply: versioning ({', '.join(unapplied)}), lifecycle, "
                "notifications, CORS, public access block"
            )
        cf = boto3.client("cloudformation", region_name=dev.region, config=BOTO)
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cf.describe_stacks(StackName=dev.stack)["Stacks"][0].get("Outputs") or []
        }
        say(
            f"  outputs: {len(outputs)}, of which on types not rehearsed: "
            f"{', '.join(k for k, v in sorted(outputs.items()) if 'not-rehearsed' in v) or 'none'}"
        )
        say(f"  stand-ins for values only a person can give: {', '.join(setup.stand_ins) or 'none'}")
        say(
            "  NOT REHEARSED either: IAM (moto evaluates no role's policy here), SES (identity, sandbox), "
            "a real account's quotas, the functions' code"
        )

        # (a) prod beside dev
        setup_prod = prepare(prod, doc_prod, keys)
        second = deploy(prod, setup_prod)
        stacks += 1
        check(
            setup_prod.parameters.get("AlarmTopicArn") in setup_prod.topics.values(),
            "(a) prod's AlarmTopicArn is not the topic docs/deploying.md creates",
        )
        say(
            f"(a) prod: {prod.stack} beside {dev.stack}, same account and region (AlarmTopicArn: the topic step 4 "
            f"creates): CREATE_COMPLETE in {second.seconds:.1f} s"
        )
        for line in assert_created(second):
            say(f"  {line}")
        ids_dev = {x["PhysicalResourceId"] for x in first.resources if x["PhysicalResourceId"]}
        ids_prod = {x["PhysicalResourceId"] for x in second.resources if x["PhysicalResourceId"]}
        check(not ids_dev & ids_prod, f"(a) physical ids in both stacks: {sorted(ids_dev & ids_prod)[:5]}")
        check(list_resources(cf, dev.stack) == first.resources, "(a) dev's resources changed when prod was created")
        say(
            f"  {len(ids_dev)} and {len(ids_prod)} physical ids (moto gives a Lambda::Permission none), none shared; dev unchanged"
        )

        # (b) the documented tear-down, then the same name again
        marked = keep_except_on_create(dev)
        say(
            f"(b) RetainExceptOnCreate, as CloudFormation reads it after a completed create: {', '.join(marked)} kept on delete"
        )
        writes = fill_buckets(first)
        for line in teardown(first, doc_dev):
            say(f"  {line}")
        stacks += 1
        left = leftovers(first)
        check(not left, f"(b) left after the documented tear-down: {left}")
        say(
            f"  nothing of {dev.stack} left after {writes} writes and the tear-down "
            "(SAM's managed bucket stays: every stack of the account and region shares it)"
        )
        assert_created(second)
        say(f"  {prod.stack} untouched")
        again = deploy(dev, prepare(dev, doc_dev, keys))
        assert_created(again)
        stacks += 1
        say(f"  {dev.stack} deployed again: CREATE_COMPLETE in {again.seconds:.1f} s")

    with mock_aws():
        # (c) a failed first create in a fresh account, retried with the same name
        setup = prepare(dev, doc_dev, keys)
        transformed = transform(setup.parameters)
        try:
            deploy(dev, setup, transformed=transformed, inject=failing_resource(transformed))
            error = ""
        except (ClientError, WaiterError) as e:
            error = str(e).split(": ", 1)[-1]
        stacks += 1
        check(error, "(c) the injected failure did not fail the create")
        s3 = boto3.client("s3", region_name=dev.region, config=BOTO)
        made = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(dev.stack + "-")]
        check(len(made) == 3, f"(c) the failure came before the kept buckets existed: {made}")
        say(
            f"(c) a first create failing after the kept resources exist ({error[:60]}): moto leaves "
            f"{stack_status(dev)} with {len(made)} buckets (CloudFormation rolls back: ROLLBACK_COMPLETE)"
        )
        delete_stack(dev)  # the documented recovery; moto's delete removes what the rollback removes
        left = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith(dev.stack + "-")]
        check(not left, f"(c) buckets left after deleting the failed stack: {left}")
        retry = deploy(dev, setup, transformed=transformed)
        assert_created(retry)
        stacks += 1
        say(f"  delete-stack, deploy again with the same name: CREATE_COMPLETE in {retry.seconds:.1f} s")
        delete_stack(dev)
        wrong = Setup(dict(setup.parameters, JwtSigningKeySecretArn=next(iter(setup.secrets))), [], {}, {})
        try:
            deploy(dev, wrong, transformed=transformed)
            error = ""
        except ClientError as e:
            error = e.response["Error"]["Message"]
        check("JwtSigningKeySecretArn" in error, "(c) a secret's name in place of its ARN was not refused")
        check(stack_status(dev) == "no stack", "(c) a refused parameter left a stack")
        retry = deploy(dev, setup, transformed=transformed)
        assert_created(retry)
        stacks += 1
        say(
            "  a secret's name for its ARN: refused before anything exists (the rehearsal checks constraints as "
            "CloudFormation does; moto checks none); with the ARN: CREATE_COMPLETE"
        )

    # names the template fixes, every type: dev beside prod, and one stack name in two regions
    elsewhere = "eu-west-1" if dev.region != "eu-west-1" else "eu-central-1"
    names_dev = fixed_names(first, dev.region)
    clash = collisions(names_dev, fixed_names(second, prod.region))
    check(not clash, f"(a) names fixed by the template shared by dev and prod: {clash}")
    say(f"names the template fixes: {len(names_dev)} per stack (every type); dev and prod share none")
    clash = collisions(names_dev, fixed_names(first, elsewhere))
    if clash and all(c.startswith("AWS::CloudFront::") for c in clash):
        findings.append(
            f"one stack name in two regions of one account collides on CloudFront names: {len(clash)}, e.g. {clash[0]}"
        )
    elif clash:
        findings.append(f"one stack name in two regions of one account collides: {clash}")
    else:
        say(f"  {dev.stack} in {dev.region} and in {elsewhere}: no name shared")

    status, seen = 0, set()
    for finding in findings:
        known = next((k for k in KNOWN_FINDINGS if finding.startswith(k)), None)
        if known:
            seen.add(known)
            say(f"known ({KNOWN_FINDINGS[known]}): {finding}")
        else:
            say(f"FINDING: {finding}")
            status = 1
    for fixed in sorted(set(KNOWN_FINDINGS) - seen):
        say(f"FIXED: '{fixed}' no longer occurs; take it off KNOWN_FINDINGS")
        status = 1
    say(
        f"deploy-rehearsal: {'ok' if status == 0 else 'FAILED'}: {stacks} stack creates in moto "
        f"({sum(created.values())} resources of dev's created, {sum(skipped.values())} not rehearsed) "
        f"in {time.monotonic() - started:.1f} s"
    )
    return status


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print(f"deploy-rehearsal: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    except (ClientError, WaiterError) as e:
        print(f"deploy-rehearsal: FAILED: {e}", file=sys.stderr)
        sys.exit(1)
