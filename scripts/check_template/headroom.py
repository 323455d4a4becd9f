"""Headroom: the transformed stack's share of each CloudFormation quota for one stack."""

from __future__ import annotations

import json
from typing import Any

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
