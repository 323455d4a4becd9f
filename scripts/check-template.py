#!/usr/bin/env python3
"""Checks a SAM template the way CloudFormation will see it, offline.

The template is packaged the way `sam deploy` packages it (every local CodeUri becomes an S3 URI)
and transformed with the pinned aws-sam-translator, the library behind CloudFormation's
AWS::Serverless-2016-10-31 transform (a managed-policy map stub stands in for the IAM lookup, so no
AWS call is made). The transformed template then must have:

- no dependency cycle among resources: DependsOn, Ref, Fn::GetAtt and Fn::Sub references count,
  in every branch of Fn::If;
- no reference (Ref, GetAtt, Sub, DependsOn, Fn::If / Condition) to something that is neither a
  resource, a parameter, a pseudo-parameter nor a condition;
- no secret in a Lambda function's environment: no value refers to a NoEcho parameter or holds
  a PEM key, and no variable is named like a secret (SECRET, PRIVATE_KEY, PASSWORD) unless its
  name ends in _ARN or _ID (it then names where the secret lives).
- no fixed physical name (a bucket's, table's, queue's, alarm's, rule's, secret's, alias's, log
  group's, ...): each is built from ${AWS::StackName} or a generated name, so that two stacks
  (dev beside prod) can be created in one account and region.

On the template as written (before the transform) it also checks that every checkov skip carries
a reason (`Metadata: checkov: skip: [{id, comment}]`), that every function an HTTP API (or REST
API) invokes has a Timeout of at most 29 s (its own, else the Globals' default, else SAM's 3 s: API
Gateway stops waiting after 30 s and answers 503 while the function runs on; longer work belongs in
an asynchronous worker), and, for template.yaml, the operational
conventions: every function logs to one of the stack's log groups (one per area, its
`LoggingConfig.LogGroup`), each with the retention parameter and the logs key, is watched by exactly one Errors and one Throttles alarm, and may read exactly the
secrets its environment names (GetSecretValue on those ARNs, never "*"; the token key only with a
userId encryption context).

Usage:
  check-template.py [TEMPLATE ...]   check each template (default: template.yaml)
  check-template.py --selftest       the fixtures under tests/fixtures/template/ must be rejected
                                     for the reason each one is named after; template.yaml passes
Exit status 0 when every check passes, 1 otherwise.
"""

from __future__ import annotations

import copy
import os
import re
import json
import sys
from pathlib import Path
from typing import Any, Iterator

# The transform reads the region from the default boto session; no call is made with it.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")

import logging  # noqa: E402

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

logging.disable(logging.WARNING)  # the translator's "unpublished metrics" chatter

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "template"

PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}

SECRET_NAME = re.compile(r"SECRET|PRIVATE_KEY|PASSWORD|PASSWD", re.IGNORECASE)
SECRET_NAME_ALLOWED = re.compile(r"_(ARN|ID)$", re.IGNORECASE)
PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class ManagedPolicyStub:
    """Stands in for samtranslator's ManagedPolicyLoader (which lists IAM's AWS managed policies):
    policies named in the template resolve to their well-known ARNs, offline."""

    NAMES = (
        "AWSLambdaBasicExecutionRole",
        "AWSLambdaRole",
        "AWSXrayWriteOnlyAccess",
        "AWSLambdaVPCAccessExecutionRole",
    )

    def load(self) -> dict[str, str]:
        return {name: f"arn:aws:iam::aws:policy/service-role/{name}" for name in self.NAMES}


def package(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam package` (run by `sam deploy`) does to the template: local artefacts become S3 URIs."""
    packaged = copy.deepcopy(template)
    for logical_id, resource in (packaged.get("Resources") or {}).items():
        if not isinstance(resource, dict):
            continue
        props = resource.get("Properties") or {}
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri", "."), str):
            props["CodeUri"] = f"s3://packaged-artifacts/{logical_id}.zip"
        if kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = f"s3://packaged-artifacts/{logical_id}.zip"
        if kind in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::StateMachine"):
            if isinstance(props.get("DefinitionUri"), str):
                props["DefinitionUri"] = f"s3://packaged-artifacts/{logical_id}.yaml"
    return packaged


def sam_transform(template: dict[str, Any]) -> dict[str, Any]:
    return transform(package(template), {}, ManagedPolicyStub())


# ---- references -------------------------------------------------------------------------


def sub_names(value: Any) -> tuple[list[str], dict[str, Any]]:
    """The names a Fn::Sub string refers to (before any '.'), and its own variable map."""
    if isinstance(value, list) and value:
        text, variables = value[0], (value[1] if len(value) > 1 and isinstance(value[1], dict) else {})
    else:
        text, variables = value, {}
    names = []
    if isinstance(text, str):
        for inner in SUB_VARIABLE.findall(text):
            if inner.startswith("!"):
                continue  # ${!Literal}
            names.append(inner.strip())
    return names, variables


def references(node: Any) -> Iterator[tuple[str, str]]:
    """Every (kind, target) reference under node: kind is Ref, GetAtt, Sub or Condition."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and len(node) == 1:
                yield "Ref", value
            elif key == "Fn::GetAtt" and len(node) == 1:
                if isinstance(value, list) and value and isinstance(value[0], str):
                    yield "GetAtt", value[0]
                    yield from references(value[1:])
                elif isinstance(value, str):
                    yield "GetAtt", value.split(".", 1)[0]
            elif key == "Fn::Sub" and len(node) == 1:
                names, variables = sub_names(value)
                for name in names:
                    if name in variables:
                        continue
                    base = name.split(".", 1)[0] if "." in name and not name.startswith("AWS::") else name
                    yield ("GetAtt" if base != name else "Sub"), base
                yield from references(variables)
            elif key == "Fn::If" and len(node) == 1 and isinstance(value, list) and value:
                if isinstance(value[0], str):
                    yield "Condition", value[0]
                yield from references(value[1:])
            elif key == "Condition" and isinstance(value, str) and len(node) == 1:
                yield "Condition", value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def depends_on(resource: dict[str, Any]) -> list[str]:
    d = resource.get("DependsOn", [])
    return [d] if isinstance(d, str) else [x for x in d if isinstance(x, str)]


def dependency_graph(template: dict[str, Any]) -> dict[str, set[str]]:
    resources = template.get("Resources") or {}
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        edges = set(d for d in depends_on(resource) if d in resources)
        body = {k: v for k, v in resource.items() if k not in ("DependsOn", "Condition", "Type")}
        for kind, target in references(body):
            if kind != "Condition" and target in resources:
                edges.add(target)
        graph[logical_id] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node, or a node depending on itself
    (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def describe_cycle(graph: dict[str, set[str]], component: list[str]) -> str:
    """One concrete loop through a strongly connected component: "A -> B -> A" reads "A needs B,
    B needs A"."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                path.reverse()
                loop = " -> ".join(path + [start])
                extra = sorted(members - set(path))
                return loop + (f" (and {', '.join(extra)} in the same knot)" if extra else "")
            if child not in parent and child != start:
                parent[child] = node
                queue.append(child)
    return " <-> ".join(component)


def unresolved(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    conditions = template.get("Conditions") or {}
    known_refs = set(resources) | set(parameters) | PSEUDO_PARAMETERS
    problems = []
    sections = {"Resources": resources, "Outputs": template.get("Outputs") or {}, "Conditions": conditions}
    for section, entries in sections.items():
        for name, entry in entries.items():
            where = f"{section}.{name}"
            if section == "Resources" and isinstance(entry, dict):
                for target in depends_on(entry):
                    if target not in resources:
                        problems.append(f"{where}: DependsOn {target}, which is no resource")
                condition = entry.get("Condition")
                if isinstance(condition, str) and condition not in conditions:
                    problems.append(f"{where}: Condition {condition}, which is not defined")
            for kind, target in references(entry):
                if kind == "Condition":
                    if target not in conditions:
                        problems.append(f"{where}: condition {target} is not defined")
                elif kind == "GetAtt":
                    if target not in resources:
                        problems.append(f"{where}: GetAtt {target}, which is no resource")
                elif target not in known_refs:
                    problems.append(f"{where}: {kind} {target}, which is no resource, parameter or pseudo-parameter")
    return sorted(set(problems))


# ---- secrets ----------------------------------------------------------------------------


def environment_secrets(template: dict[str, Any]) -> list[str]:
    parameters = template.get("Parameters") or {}
    no_echo = {name for name, p in parameters.items() if isinstance(p, dict) and str(p.get("NoEcho")).lower() == "true"}
    problems = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Lambda::Function":
            continue
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        if not isinstance(variables, dict):
            continue
        for name, value in variables.items():
            if SECRET_NAME.search(name) and not SECRET_NAME_ALLOWED.search(name):
                problems.append(f"{logical_id}: environment variable {name} is named like a secret")
            for kind, target in references(value):
                if kind in ("Ref", "Sub") and target in no_echo:
                    problems.append(f"{logical_id}: {name} takes the NoEcho parameter {target}")
            if PEM.search(repr(value)):
                problems.append(f"{logical_id}: {name} holds a private key")
    return problems


# ---- names: two stacks in one account --------------------------------------------------

# The properties that give a resource its physical name, by type ("A.B": B inside A). Such a name
# is unique in the account and region (in the account for IAM and CloudFront): a fixed one makes
# the second stack's create fail ("already exists"), and a stack finds the other's by it.
NAME_PROPERTIES = {
    "AWS::S3::Bucket": ["BucketName"],
    "AWS::DynamoDB::Table": ["TableName"],
    "AWS::SQS::Queue": ["QueueName"],
    "AWS::SNS::Topic": ["TopicName"],
    "AWS::CloudWatch::Alarm": ["AlarmName"],
    "AWS::CloudWatch::CompositeAlarm": ["AlarmName"],
    "AWS::Events::Rule": ["Name"],
    "AWS::Events::EventBus": ["Name"],
    "AWS::Scheduler::Schedule": ["Name"],
    "AWS::SecretsManager::Secret": ["Name"],
    "AWS::KMS::Alias": ["AliasName"],
    "AWS::Lambda::Function": ["FunctionName"],
    "AWS::Logs::LogGroup": ["LogGroupName"],
    "AWS::IAM::Role": ["RoleName"],
    "AWS::IAM::ManagedPolicy": ["ManagedPolicyName"],
    "AWS::SES::ConfigurationSet": ["Name"],
    "AWS::StepFunctions::StateMachine": ["StateMachineName"],
    "AWS::CloudFront::KeyGroup": ["KeyGroupConfig.Name"],
    "AWS::CloudFront::PublicKey": ["PublicKeyConfig.Name"],
    "AWS::CloudFront::OriginAccessControl": ["OriginAccessControlConfig.Name"],
    "AWS::CloudFront::ResponseHeadersPolicy": ["ResponseHeadersPolicyConfig.Name"],
    "AWS::CloudFront::CachePolicy": ["CachePolicyConfig.Name"],
    "AWS::CloudFront::OriginRequestPolicy": ["OriginRequestPolicyConfig.Name"],
    "AWS::CloudFront::Function": ["Name"],
}


def fixed_names(template: dict[str, Any]) -> list[str]:
    """Every physical name the stack sets must be its own: built from ${AWS::StackName} (or the
    stack id), or from a resource CloudFormation names (`/aws/lambda/${Function}`). A name left out
    is generated by CloudFormation, which is always fine."""
    resources = template.get("Resources") or {}
    problems = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        for path in NAME_PROPERTIES.get(resource.get("Type", ""), []):
            value: Any = resource.get("Properties") or {}
            for part in path.split("."):
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                continue
            own = any(
                target in ("AWS::StackName", "AWS::StackId") or (kind != "Condition" and target in resources)
                for kind, target in references(value)
            )
            if not own:
                problems.append(
                    f"{logical_id}: {path} {value!r} is the same in every stack of the account; build it with "
                    '${AWS::StackName} (or leave it out and let CloudFormation name it)'
                )
        # A rule on an account-level service's events sees every stack's jobs: it must match its
        # own stack's (the jobs carry the stack's name: MediaConvert's userMetadata, Transcribe's
        # job name).
        pattern = (resource.get("Properties") or {}).get("EventPattern")
        if resource.get("Type") == "AWS::Events::Rule" and isinstance(pattern, dict):
            sources = set(as_list(pattern.get("source", [])))
            if sources & ACCOUNT_EVENT_SOURCES and not any(t == "AWS::StackName" for _, t in references(pattern)):
                problems.append(
                    f"{logical_id}: its pattern takes every {', '.join(sorted(sources))} event of the account; "
                    "match the stack's own jobs (${AWS::StackName})"
                )
    return problems


# Services whose events belong to the account, not to a stack.
ACCOUNT_EVENT_SOURCES = {"aws.mediaconvert", "aws.transcribe"}


# ---- the template as written ------------------------------------------------------------


def checkov_skips_without_reason(template: dict[str, Any]) -> list[str]:
    problems = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        skips = (((resource or {}).get("Metadata") or {}).get("checkov") or {}).get("skip") or []
        for skip in skips:
            if not isinstance(skip, dict) or not skip.get("id"):
                problems.append(f"{logical_id}: a checkov skip without id")
            elif not str(skip.get("comment") or "").strip():
                problems.append(f"{logical_id}: checkov skip {skip['id']} has no comment (the reason)")
    return problems


# API Gateway waits at most 30 s for an HTTP API's integration (29 s for a REST API's), then answers
# the client 503 while the function goes on: a route's function must be done by then.
ROUTE_TIMEOUT_MAX = 29
SAM_DEFAULT_TIMEOUT = 3


def route_timeouts(template: dict[str, Any]) -> list[str]:
    """Every function with an HttpApi (or Api) event has a Timeout of at most ROUTE_TIMEOUT_MAX
    seconds: its own, else the Globals' Function Timeout, else SAM's default. A Timeout given by a
    parameter counts with its MaxValue (else its Default)."""
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    globals_timeout = ((template.get("Globals") or {}).get("Function") or {}).get("Timeout")
    problems = []
    for fn in function_ids(template):
        props = resources[fn].get("Properties") or {}
        events = props.get("Events") or {}
        kinds = sorted({e.get("Type") for e in events.values() if isinstance(e, dict)} & {"HttpApi", "Api"})
        if not kinds:
            continue
        if "Timeout" in props:
            timeout, where = props["Timeout"], "its Timeout"
        elif globals_timeout is not None:
            timeout, where = globals_timeout, "the Globals' Function Timeout"
        else:
            timeout, where = SAM_DEFAULT_TIMEOUT, "SAM's default Timeout"
        ref = timeout.get("Ref") if isinstance(timeout, dict) else None
        if isinstance(ref, str) and isinstance(parameters.get(ref), dict):
            declared = parameters[ref]
            timeout, where = declared.get("MaxValue", declared.get("Default")), f"{where} (parameter {ref} up to)"
        try:
            seconds = int(timeout)
        except (TypeError, ValueError):
            problems.append(f"{fn}: {where} {timeout!r} is not a number of seconds this check can read")
            continue
        if seconds > ROUTE_TIMEOUT_MAX:
            problems.append(
                f"{fn}: {where} is {seconds} s, but it serves {' and '.join(kinds)} routes and API Gateway stops "
                f"waiting after 30 s (the client gets 503 while the work goes on): at most {ROUTE_TIMEOUT_MAX} s; "
                "answer 202 and hand longer work to an asynchronous function (see deletion-worker)"
            )
    return problems


def function_ids(template: dict[str, Any]) -> list[str]:
    return sorted(
        k for k, r in (template.get("Resources") or {}).items() if (r or {}).get("Type") == "AWS::Serverless::Function"
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def secret_grants(template: dict[str, Any]) -> list[str]:
    """A function may read exactly the secrets its environment names: every secret ARN in its
    environment (a Ref to a *SecretArn parameter or to a Secrets Manager secret of the stack) has
    a secretsmanager:GetSecretValue grant on that ARN, and every such grant names one of them.
    A function holding VIVID_TOKEN_KEY_ARN may use the key only with a userId encryption context.
    The local stack does not enforce IAM, so this is where a missing or extra grant shows."""
    resources = template.get("Resources") or {}
    secret_resources = {k for k, r in resources.items() if (r or {}).get("Type") == "AWS::SecretsManager::Secret"}
    problems = []
    for fn in function_ids(template):
        props = resources[fn].get("Properties") or {}
        variables = ((props.get("Environment") or {}).get("Variables")) or {}
        named = set()
        for name, value in variables.items():
            target = value.get("Ref") if isinstance(value, dict) else None
            if isinstance(target, str) and (target.endswith("SecretArn") or target in secret_resources):
                named.add(target)
        granted: set[str] = set()
        kms_ok = False
        for policy in as_list(props.get("Policies") or []):
            for statement in as_list((policy or {}).get("Statement") or []) if isinstance(policy, dict) else []:
                actions = {a.lower() for a in as_list(statement.get("Action", []))}
                targets = as_list(statement.get("Resource", []))
                if "secretsmanager:getsecretvalue" in actions or "secretsmanager:*" in actions:
                    for t in targets:
                        ref = t.get("Ref") if isinstance(t, dict) else None
                        if ref is None:
                            problems.append(f"{fn}: secretsmanager:GetSecretValue on {t!r}, not on one secret's ARN")
                        else:
                            granted.add(ref)
                if any(a.startswith("kms:") for a in actions):
                    keys = (statement.get("Condition") or {}).get("ForAnyValue:StringEquals", {})
                    if as_list(keys.get("kms:EncryptionContextKeys", [])) != ["userId"]:
                        problems.append(f"{fn}: a KMS grant without the userId encryption-context condition")
                    kms_ok = True
        for missing in sorted(named - granted):
            problems.append(f"{fn}: its environment names {missing} but it may not read it (GetSecretValue)")
        for extra in sorted(granted - named):
            problems.append(f"{fn}: may read {extra}, which its environment does not name")
        if "VIVID_TOKEN_KEY_ARN" in variables and not kms_ok:
            problems.append(f"{fn}: has VIVID_TOKEN_KEY_ARN but no KMS grant")
        if kms_ok and "VIVID_TOKEN_KEY_ARN" not in variables:
            problems.append(f"{fn}: has a KMS grant but no VIVID_TOKEN_KEY_ARN")
    return problems


def operations(template: dict[str, Any]) -> list[str]:
    """Every function logs to one of the stack's log groups (one per area, `LoggingConfig`), each
    kept `LogRetentionDays` and encrypted, and is watched by one Errors and one Throttles alarm."""
    resources = template.get("Resources") or {}
    functions = function_ids(template)
    problems = []
    groups = {lid for lid, r in resources.items() if (r or {}).get("Type") == "AWS::Logs::LogGroup"}
    for logical_id in sorted(groups):
        props = resources[logical_id].get("Properties") or {}
        if props.get("RetentionInDays") != {"Ref": "LogRetentionDays"}:
            problems.append(f"{logical_id}: RetentionInDays must be the LogRetentionDays parameter")
        if not props.get("KmsKeyId"):
            problems.append(f"{logical_id}: a log group without KmsKeyId")
    log_group_of: dict[str, Any] = {}
    for fn in functions:
        config = ((resources[fn] or {}).get("Properties") or {}).get("LoggingConfig") or {}
        log_group_of[fn] = (config.get("LogGroup") or {}).get("Ref") if isinstance(config.get("LogGroup"), dict) else None
    watched: dict[str, dict[str, list[str]]] = {"Errors": {}, "Throttles": {}}
    for logical_id, r in resources.items():
        if (r or {}).get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = r.get("Properties") or {}
        stats = [m.get("MetricStat", {}).get("Metric", {}) for m in props.get("Metrics") or []]
        if props.get("MetricName"):
            stats.append(props)
        for metric in stats:
            if metric.get("Namespace") != "AWS/Lambda" or metric.get("MetricName") not in watched:
                continue
            for dim in metric.get("Dimensions") or []:
                if dim.get("Name") == "FunctionName" and isinstance(dim.get("Value"), dict):
                    target = dim["Value"].get("Ref")
                    watched[metric["MetricName"]].setdefault(target, []).append(logical_id)
    problems += secret_grants(template)
    for fn in functions:
        if log_group_of.get(fn) not in groups:
            problems.append(f"{fn}: LoggingConfig.LogGroup must !Ref one of the stack's log groups (its area's)")
        for metric, by_fn in watched.items():
            alarms = sorted(set(by_fn.get(fn, [])))
            if len(alarms) != 1:
                problems.append(f"{fn}: in {len(alarms)} {metric} alarms {alarms} (want 1)")
    return problems


# ---- headroom: the transformed stack against CloudFormation's quotas -------------------------

# CloudFormation's quotas for one stack (a template above 51,200 bytes goes through S3, as
# `resolve_s3` does, up to 1 MB).
LIMITS = {"resources": 500, "bytes": 1_000_000, "parameters": 200, "outputs": 200, "mappings": 200}
HEADROOM = 0.8


def headroom(transformed: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Each quota's share the transformed stack uses (printed), and those above 80 %."""
    used = {
        "resources": len(transformed.get("Resources", {})),
        "bytes": len(json.dumps(transformed, separators=(",", ":")).encode()),
        "parameters": len(transformed.get("Parameters", {})),
        "outputs": len(transformed.get("Outputs", {})),
        "mappings": len(transformed.get("Mappings", {})),
    }
    lines, over = [], []
    for name, limit in LIMITS.items():
        share = used[name] / limit
        line = f"{name} {used[name]:,} of {limit:,} ({share:.0%})"
        lines.append(line)
        if share > HEADROOM:
            over.append(f"{line}: above {HEADROOM:.0%}; split the stack (docs/deploying.md, 'Headroom')")
    return lines, over


# ---- driver -----------------------------------------------------------------------------


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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
