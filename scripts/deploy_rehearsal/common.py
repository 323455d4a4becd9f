"""What every part of the rehearsal shares: the mocked account's environment (no credential of the
caller's is read), the clients' settings, CloudFormation's request limits, and Failed / check /
say. The SAM transform comes from scripts/check_template/ and samconfig's reading from
scripts/check-samconfig.py: imported, not copied."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
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


# The samconfig reading of the lint checks, imported, not copied (the transform: check_template).
check_samconfig = _load("check_samconfig", ROOT / "scripts" / "check-samconfig.py")

from botocore.config import Config  # noqa: E402

ACCOUNT = "123456789012"  # moto's default account; each `mock_aws()` is a fresh one
BOTO = Config(retries={"max_attempts": 1})
FAST = {"Delay": 1, "MaxAttempts": 30}
KEPT_POLICIES = ("Retain", "RetainExceptOnCreate", "Snapshot")
# CloudFormation's request limits: a TemplateURL's template, a parameter's value.
TEMPLATE_URL_BYTES, PARAMETER_BYTES = 1_000_000, 4_096


class Failed(Exception):
    pass


def check(condition: Any, message: str) -> None:
    if not condition:
        raise Failed(message)


def say(line: str) -> None:
    print(line, flush=True)
