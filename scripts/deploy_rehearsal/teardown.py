"""(b) and (c)'s pieces: a stack in use (its buckets filled), docs/deploying.md's tear-down
replayed step by step in its order, whatever is still billable after it, and a resource that fails
a first create once the kept resources exist."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

from deploy_rehearsal.common import BOTO, KEPT_POLICIES, check
from deploy_rehearsal.create import (
    Deployed,
    delete_stack,
    deploy,
    function_names,
    key_state,
    list_resources,
    managed_bucket,
    physical,
)
from deploy_rehearsal.docs import Documented


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
