"""Checks on the template as written (before the transform): every checkov skip carries a reason,
every function an HTTP API (or REST API) invokes has a Timeout of at most 29 s, and, for
template.yaml, the operational conventions (log groups, Errors and Throttles alarms, exactly the
secret grants a function's environment names)."""

from __future__ import annotations

from typing import Any

from check_template.references import as_list, function_ids

def checkov_skips_without_reason(template: dict[str, Any]) -> list[str]:
    problems = []
    for logical_id, resource in (template.get("Resources") or {}).items():
        skips = (((resource or {}).get("Metadata") or {}).get("checkov") or {}).get("skip") or []
        for skip in skips:
            if not isinstance(skip, dict) or not skip.get("id"):
                problems.append(f"{logical_id}: a checkov skip without id")
            elif not str(skip.get("comment") or "").strip():
                problems.append(f"{logical_id}: checkov skip {skip['id']} has no comment (the reason)")
    return problems


# API Gateway waits at most 30 s for an HTTP API's integration (29 s for a REST API's), then answers
# the client 503 while the function goes on: a route's function must be done by then.
ROUTE_TIMEOUT_MAX = 29
SAM_DEFAULT_TIMEOUT = 3


def route_timeouts(template: dict[str, Any]) -> list[str]:
    """Every function with an HttpApi (or Api) event has a Timeout of at most ROUTE_TIMEOUT_MAX
    seconds: its own, else the Globals' Function Timeout, else SAM's default. A Timeout given by a
    parameter counts with its MaxValue (else its Default)."""
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    globals_timeout = ((template.get("Globals") or {}).get("Function") or {}).get("Timeout")
    problems = []
    for fn in function_ids(template):
        props = resources[fn].get("Properties") or {}
        events = props.get("Events") or {}
        kinds = sorted({e.get("Type") for e in events.values() if isinstance(e, dict)} & {"HttpApi", "Api"})
        if not kinds:
            continue
        if "Timeout" in props:
            timeout, where = props["Timeout"], "its Timeout"
        elif globals_timeout is not None:
            timeout, where = globals_timeout, "the Globals' Function Timeout"
        else:
            timeout, where = SAM_DEFAULT_TIMEOUT, "SAM's default Timeout"
        ref = timeout.get("Ref") if isinstance(timeout, dict) else None
        if isinstance(ref, str) and isinstance(parameters.get(ref), dict):
            declared = parameters[ref]
            timeout, where = declared.get("MaxValue", declared.get("Default")), f"{where} (parameter {ref} up to)"
        try:
            seconds = int(timeout)
        except (TypeError, ValueError):
            problems.append(f"{fn}: {where} {timeout!r} is not a number of seconds this check can read")
            continue
        if seconds > ROUTE_TIMEOUT_MAX:
            problems.append(
                f"{fn}: {where} is {seconds} s, but it serves {' and '.join(kinds)} routes and API Gateway stops "
                f"waiting after 30 s (the client gets 503 while the work goes on): at most {ROUTE_TIMEOUT_MAX} s; "
                "answer 202 and hand longer work to an asynchronous function (see deletion-worker)"
            )
    return problems


def is_lti_key(target: Any) -> bool:
    """Whether a grant's resource is the LTI tool key: the stack's own (`!GetAtt LtiToolKey.Arn`),
    the signing key (`!If [HasLtiToolKeyArn, !Ref LtiToolKeyArn, !GetAtt LtiToolKey.Arn]`), or the
    previous one while it rotates (`!If [HasLtiPreviousToolKeyArn, !Ref LtiPreviousToolKeyArn,
    !Ref AWS::NoValue]`; docs/lti-key-rotation.md)."""
    if target in ({"Fn::GetAtt": ["LtiToolKey", "Arn"]}, {"Fn::GetAtt": "LtiToolKey.Arn"}):
        return True
    branches = target.get("Fn::If") if isinstance(target, dict) else None
    if not isinstance(branches, list) or len(branches) != 3:
        return False
    return branches in (
        ["HasLtiToolKeyArn", {"Ref": "LtiToolKeyArn"}, {"Fn::GetAtt": ["LtiToolKey", "Arn"]}],
        ["HasLtiToolKeyArn", {"Ref": "LtiToolKeyArn"}, {"Fn::GetAtt": "LtiToolKey.Arn"}],
        ["HasLtiPreviousToolKeyArn", {"Ref": "LtiPreviousToolKeyArn"}, {"Ref": "AWS::NoValue"}],
    )


def secret_grants(template: dict[str, Any]) -> list[str]:
    """A function may read exactly the secrets its environment names: every secret ARN in its
    environment (a Ref to a *SecretArn parameter or to a Secrets Manager secret of the stack) has
    a secretsmanager:GetSecretValue grant on that ARN, and every such grant names one of them.
    A function holding VIVID_TOKEN_KEY_ARN may use the key only with a userId encryption context.
    The local stack does not enforce IAM, so this is where a missing or extra grant shows."""
    resources = template.get("Resources") or {}
    secret_resources = {k for k, r in resources.items() if (r or {}).get("Type") == "AWS::SecretsManager::Secret"}
    problems = []
    for fn in function_ids(template):
        props = resources[fn].get("Properties") or {}
        variables = ((props.get("Environment") or {}).get("Variables")) or {}
        named = set()
        for name, value in variables.items():
            target = value.get("Ref") if isinstance(value, dict) else None
            if isinstance(target, str) and (target.endswith("SecretArn") or target in secret_resources):
                named.add(target)
        granted: set[str] = set()
        kms_ok = False
        for policy in as_list(props.get("Policies") or []):
            for statement in as_list((policy or {}).get("Statement") or []) if isinstance(policy, dict) else []:
                actions = {a.lower() for a in as_list(statement.get("Action", []))}
                targets = as_list(statement.get("Resource", []))
                if "secretsmanager:getsecretvalue" in actions or "secretsmanager:*" in actions:
                    for t in targets:
                        ref = t.get("Ref") if isinstance(t, dict) else None
                        if ref is None:
                            problems.append(f"{fn}: secretsmanager:GetSecretValue on {t!r}, not on one secret's ARN")
                        else:
                            granted.add(ref)
                if any(a.startswith("kms:") for a in actions) and any(is_lti_key(t) for t in targets):
                    # The LTI tool key signs and publishes its public half; nothing else, and only
                    # for a function that names it.
                    if not actions <= {"kms:sign", "kms:getpublickey"} or not all(is_lti_key(t) for t in targets):
                        problems.append(f"{fn}: the LTI key granted beyond kms:Sign and kms:GetPublicKey")
                    previous = [t for t in targets if "LtiPreviousToolKeyArn" in str(t)]
                    if previous and (actions != {"kms:getpublickey"} or "VIVID_LTI_PREVIOUS_KEY_ARN" not in variables):
                        # The previous key only publishes (GET /lti/jwks): nothing signs with it.
                        problems.append(f"{fn}: the previous LTI key granted beyond kms:GetPublicKey, or without VIVID_LTI_PREVIOUS_KEY_ARN")
                    if "VIVID_LTI_KEY_ARN" not in variables:
                        problems.append(f"{fn}: has a grant on the LTI key but no VIVID_LTI_KEY_ARN")
                    continue
                if any(a.startswith("kms:") for a in actions):
                    keys = (statement.get("Condition") or {}).get("ForAnyValue:StringEquals", {})
                    if as_list(keys.get("kms:EncryptionContextKeys", [])) != ["userId"]:
                        problems.append(f"{fn}: a KMS grant without the userId encryption-context condition")
                    kms_ok = True
        for missing in sorted(named - granted):
            problems.append(f"{fn}: its environment names {missing} but it may not read it (GetSecretValue)")
        for extra in sorted(granted - named):
            problems.append(f"{fn}: may read {extra}, which its environment does not name")
        if "VIVID_TOKEN_KEY_ARN" in variables and not kms_ok:
            problems.append(f"{fn}: has VIVID_TOKEN_KEY_ARN but no KMS grant")
        if kms_ok and "VIVID_TOKEN_KEY_ARN" not in variables:
            problems.append(f"{fn}: has a KMS grant but no VIVID_TOKEN_KEY_ARN")
    return problems


def operations(template: dict[str, Any]) -> list[str]:
    """Every function logs to one of the stack's log groups (one per area, `LoggingConfig`), each
    kept `LogRetentionDays` and encrypted, and is watched by one Errors and one Throttles alarm."""
    resources = template.get("Resources") or {}
    functions = function_ids(template)
    problems = []
    groups = {lid for lid, r in resources.items() if (r or {}).get("Type") == "AWS::Logs::LogGroup"}
    for logical_id in sorted(groups):
        props = resources[logical_id].get("Properties") or {}
        if props.get("RetentionInDays") != {"Ref": "LogRetentionDays"}:
            problems.append(f"{logical_id}: RetentionInDays must be the LogRetentionDays parameter")
        if not props.get("KmsKeyId"):
            problems.append(f"{logical_id}: a log group without KmsKeyId")
    log_group_of: dict[str, Any] = {}
    for fn in functions:
        config = ((resources[fn] or {}).get("Properties") or {}).get("LoggingConfig") or {}
        log_group_of[fn] = (config.get("LogGroup") or {}).get("Ref") if isinstance(config.get("LogGroup"), dict) else None
    watched: dict[str, dict[str, list[str]]] = {"Errors": {}, "Throttles": {}}
    for logical_id, r in resources.items():
        if (r or {}).get("Type") != "AWS::CloudWatch::Alarm":
            continue
        props = r.get("Properties") or {}
        stats = [m.get("MetricStat", {}).get("Metric", {}) for m in props.get("Metrics") or []]
        if props.get("MetricName"):
            stats.append(props)
        for metric in stats:
            if metric.get("Namespace") != "AWS/Lambda" or metric.get("MetricName") not in watched:
                continue
            for dim in metric.get("Dimensions") or []:
                if dim.get("Name") == "FunctionName" and isinstance(dim.get("Value"), dict):
                    target = dim["Value"].get("Ref")
                    watched[metric["MetricName"]].setdefault(target, []).append(logical_id)
    problems += secret_grants(template)
    for fn in functions:
        if log_group_of.get(fn) not in groups:
            problems.append(f"{fn}: LoggingConfig.LogGroup must !Ref one of the stack's log groups (its area's)")
        for metric, by_fn in watched.items():
            alarms = sorted(set(by_fn.get(fn, [])))
            if len(alarms) != 1:
                problems.append(f"{fn}: in {len(alarms)} {metric} alarms {alarms} (want 1)")
    return problems
