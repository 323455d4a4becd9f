"""What the operator does before the deploy (docs/deploying.md's steps 2-4): step 3's keys, the
secrets and the alarm topic, an ACM certificate where named; then samconfig's `<...>` placeholders
filled with what those return, or a listed stand-in for a value only a person can give."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from deploy_rehearsal.common import BOTO, check
from deploy_rehearsal.docs import Documented, Environment


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
