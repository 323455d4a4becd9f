"""No secret in a Lambda function's environment: no value refers to a NoEcho parameter or holds a
PEM key, and no variable is named like a secret (SECRET, PRIVATE_KEY, PASSWORD) unless its name
ends in _ARN or _ID (it then names where the secret lives). Checked on the transformed template."""

from __future__ import annotations

import re
from typing import Any

from check_template.references import references

SECRET_NAME = re.compile(r"SECRET|PRIVATE_KEY|PASSWORD|PASSWD", re.IGNORECASE)
SECRET_NAME_ALLOWED = re.compile(r"_(ARN|ID)$", re.IGNORECASE)
PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


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
