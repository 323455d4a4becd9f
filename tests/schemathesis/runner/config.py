"""Where things are and the knobs a run reads from the environment (run.py's docstring lists
them), the constants the stack and the seeds share, and log."""

from __future__ import annotations

import os
from pathlib import Path

# tests/schemathesis/: schemathesis.toml and hooks.py (SCHEMATHESIS_HOOKS=hooks) live here.
HERE = Path(__file__).resolve().parent.parent
ROOT = HERE.parents[1]
OUT = Path(os.environ.get("VIVID_SCHEMATHESIS_OUT") or ROOT / "target" / "schemathesis")
STACK_BIN = Path(os.environ.get("VIVID_LOCAL_BIN") or ROOT / "target" / "debug" / "vivid-local")
SCHEMATHESIS = Path(os.environ.get("VIVID_SCHEMATHESIS_BIN") or ROOT / ".venv" / "schemathesis" / "bin" / "schemathesis")
DOCUMENT = Path(os.environ.get("VIVID_SCHEMATHESIS_DOCUMENT") or ROOT / "docs" / "openapi.yaml")
# Where vivid-local runs (it reads template.yaml and starts .venv/bin/vivid-moto-server there).
STACK_ROOT = Path(os.environ.get("VIVID_LOCAL_ROOT") or ROOT)
BASE_CONFIG = HERE / "schemathesis.toml"
PASSES = ("host", "participant", "stranger", "account")
SEED = int(os.environ.get("VIVID_SCHEMATHESIS_SEED") or 20261101)
MIB = 1024 * 1024
MULTIPART_THRESHOLD = 8 * MIB


def log(msg: str) -> None:
    print(msg, flush=True)
