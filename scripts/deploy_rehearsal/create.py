"""`sam deploy` against moto's CloudFormation: the template transformed with the parameters,
packaged, uploaded to SAM's managed bucket, CreateStack, the waiter. moto's gaps are marked,
never filled in: a reference to a type it does not implement becomes a `not-rehearsed:...`
string, what it skipped is logged (MOTO_LOG). Then small readers of a deployed stack (resources,
status, physical ids, functions, a key's state) and `RetainExceptOnCreate` applied as
CloudFormation reads it."""

from __future__ import annotations

import collections
import copy
import io
import json
import logging
import re
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError
from check_template import transform as sam
from moto.cloudformation.parsing import get_model_map

from deploy_rehearsal.common import ACCOUNT, BOTO, FAST, ROOT, TEMPLATE_URL_BYTES, check
from deploy_rehearsal.constraints import active, refused
from deploy_rehearsal.docs import Environment
from deploy_rehearsal.prepare import Setup


_SOURCE: list[dict[str, Any]] = []


def source_template() -> dict[str, Any]:
    """template.yaml, parsed once (a copy each time)."""
    if not _SOURCE:
        _SOURCE.append(sam.yaml_parse((ROOT / "template.yaml").read_text()))
    return copy.deepcopy(_SOURCE[0])


def transform(parameters: dict[str, str]) -> dict[str, Any]:
    """The SAM transform as CloudFormation runs it, with the parameter values given."""
    return sam.transform(
        sam.package(source_template()), parameters, sam.ManagedPolicyStub()
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
    packaged_bytes = len(json.dumps(sam.package(source)).encode())
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
