"""CloudFormation's checks before a create, which moto does not make: parameter constraints, rule
assertions, a value's size; and the conditions that decide which resources a create makes."""

from __future__ import annotations

import re
from typing import Any

from deploy_rehearsal.common import PARAMETER_BYTES, Failed


def evaluate(node: Any, values: dict[str, str], conditions: dict[str, Any]) -> Any:
    """A condition's or a rule's value: Ref, Condition, Fn::Equals, Fn::Not, Fn::And, Fn::Or."""
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return values.get(arg, "")
        if fn == "Condition":
            return evaluate(conditions[arg], values, conditions)
        if fn == "Fn::Equals":
            return str(evaluate(arg[0], values, conditions)) == str(evaluate(arg[1], values, conditions))
        if fn == "Fn::Not":
            return not evaluate(arg[0], values, conditions)
        if fn == "Fn::And":
            return all(evaluate(a, values, conditions) for a in arg)
        if fn == "Fn::Or":
            return any(evaluate(a, values, conditions) for a in arg)
        raise Failed(f"{fn} in a condition or rule: the rehearsal does not evaluate it")
    return node


def values_of(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    return {k: str(p.get("Default", "")) for k, p in (template.get("Parameters") or {}).items()} | given


def refused(template: dict[str, Any], given: dict[str, str]) -> list[str]:
    """What CloudFormation refuses before creating anything: parameters (unknown, missing, against
    their constraints), rule assertions, a value over 4,096 bytes."""
    problems = []
    declared = template.get("Parameters") or {}
    problems += [f"Parameters: [{n}] do not exist in the template" for n in given if n not in declared]
    for name, p in declared.items():
        value = given.get(name, p.get("Default"))
        if value is None:
            problems.append(f"Parameters: [{name}] must have values")
            continue
        value = str(value)
        if len(value.encode()) > PARAMETER_BYTES:
            problems.append(f"Parameter '{name}' is over {PARAMETER_BYTES} bytes")
        if p.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                problems.append(f"Parameter '{name}' must be a number")
                continue
            if "MinValue" in p and number < float(p["MinValue"]):
                problems.append(f"Parameter '{name}' must be a number not less than {p['MinValue']}")
            if "MaxValue" in p and number > float(p["MaxValue"]):
                problems.append(f"Parameter '{name}' must be a number not greater than {p['MaxValue']}")
        if "AllowedValues" in p and value not in [str(v) for v in p["AllowedValues"]]:
            problems.append(f"Parameter '{name}' must be one of AllowedValues")
        if "AllowedPattern" in p and not re.fullmatch(p["AllowedPattern"], value, re.S):
            problems.append(
                f"Parameter '{name}' failed to satisfy constraint: {p.get('ConstraintDescription') or 'must match pattern ' + p['AllowedPattern']}"
            )
        if "MinLength" in p and len(value) < int(p["MinLength"]):
            problems.append(f"Parameter '{name}' must contain at least {p['MinLength']} characters")
        if "MaxLength" in p and len(value) > int(p["MaxLength"]):
            problems.append(f"Parameter '{name}' must contain at most {p['MaxLength']} characters")
    values = values_of(template, given)
    for name, rule in (template.get("Rules") or {}).items():
        if "RuleCondition" in rule and not evaluate(rule["RuleCondition"], values, {}):
            continue
        problems += [
            f"Rule {name}: {a.get('AssertDescription', 'assertion failed')}"
            for a in rule.get("Assertions", [])
            if not evaluate(a["Assert"], values, {})
        ]
    return problems


def active(transformed: dict[str, Any], given: dict[str, str]) -> set[str]:
    """The logical ids CloudFormation creates with these values (no Condition, or a true one)."""
    values, conditions = values_of(transformed, given), transformed.get("Conditions") or {}
    return {
        k
        for k, r in transformed["Resources"].items()
        if "Condition" not in r or evaluate(conditions[r["Condition"]], values, conditions)
    }
