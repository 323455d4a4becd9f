"""A created stack as it must be (CREATE_COMPLETE; buckets, table, functions and rules named as
docs/deploying.md says; no concurrency reserved), and the static check of every name the template
fixes (every type, moto's or not): unique within its scope for dev beside prod and for one stack
name in two regions."""

from __future__ import annotations

import collections
import re
from typing import Any

import boto3

from deploy_rehearsal.common import ACCOUNT, BOTO, check
from deploy_rehearsal.constraints import active, values_of
from deploy_rehearsal.create import Deployed, physical, stack_status

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
