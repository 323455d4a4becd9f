"""The template as CloudFormation receives it: packaged the way `sam deploy` packages it (every
local CodeUri becomes an S3 URI) and transformed with the pinned aws-sam-translator, the library
behind CloudFormation's AWS::Serverless-2016-10-31 transform. A managed-policy map stub stands in
for the IAM lookup, so no AWS call is made."""

from __future__ import annotations

import copy
import logging
import os
from typing import Any

# The transform reads the region from the default boto session; no call is made with it.
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

logging.disable(logging.WARNING)  # the translator's "unpublished metrics" chatter

__all__ = ["InvalidDocumentException", "ManagedPolicyStub", "package", "sam_transform", "transform", "yaml_parse"]


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
