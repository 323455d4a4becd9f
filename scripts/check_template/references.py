"""References between a template's parts (Ref, Fn::GetAtt, Fn::Sub, DependsOn, Fn::If and
Condition): the dependency graph and its cycles (Tarjan), references to nothing, and small
readers of the template the other checks share."""

from __future__ import annotations

import re
from typing import Any, Iterator

PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}

SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def sub_names(value: Any) -> tuple[list[str], dict[str, Any]]:
    """The names a Fn::Sub string refers to (before any '.'), and its own variable map."""
    if isinstance(value, list) and value:
        text, variables = value[0], (value[1] if len(value) > 1 and isinstance(value[1], dict) else {})
    else:
        text, variables = value, {}
    names = []
    if isinstance(text, str):
        for inner in SUB_VARIABLE.findall(text):
            if inner.startswith("!"):
                continue  # ${!Literal}
            names.append(inner.strip())
    return names, variables


def references(node: Any) -> Iterator[tuple[str, str]]:
    """Every (kind, target) reference under node: kind is Ref, GetAtt, Sub or Condition."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str) and len(node) == 1:
                yield "Ref", value
            elif key == "Fn::GetAtt" and len(node) == 1:
                if isinstance(value, list) and value and isinstance(value[0], str):
                    yield "GetAtt", value[0]
                    yield from references(value[1:])
                elif isinstance(value, str):
                    yield "GetAtt", value.split(".", 1)[0]
            elif key == "Fn::Sub" and len(node) == 1:
                names, variables = sub_names(value)
                for name in names:
                    if name in variables:
                        continue
                    base = name.split(".", 1)[0] if "." in name and not name.startswith("AWS::") else name
                    yield ("GetAtt" if base != name else "Sub"), base
                yield from references(variables)
            elif key == "Fn::If" and len(node) == 1 and isinstance(value, list) and value:
                if isinstance(value[0], str):
                    yield "Condition", value[0]
                yield from references(value[1:])
            elif key == "Condition" and isinstance(value, str) and len(node) == 1:
                yield "Condition", value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def depends_on(resource: dict[str, Any]) -> list[str]:
    d = resource.get("DependsOn", [])
    return [d] if isinstance(d, str) else [x for x in d if isinstance(x, str)]


def dependency_graph(template: dict[str, Any]) -> dict[str, set[str]]:
    resources = template.get("Resources") or {}
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        edges = set(d for d in depends_on(resource) if d in resources)
        body = {k: v for k, v in resource.items() if k not in ("DependsOn", "Condition", "Type")}
        for kind, target in references(body):
            if kind != "Condition" and target in resources:
                edges.add(target)
        graph[logical_id] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node, or a node depending on itself
    (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def describe_cycle(graph: dict[str, set[str]], component: list[str]) -> str:
    """One concrete loop through a strongly connected component: "A -> B -> A" reads "A needs B,
    B needs A"."""
    members = set(component)
    start = component[0]
    parent: dict[str, str] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node] & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                path.reverse()
                loop = " -> ".join(path + [start])
                extra = sorted(members - set(path))
                return loop + (f" (and {', '.join(extra)} in the same knot)" if extra else "")
            if child not in parent and child != start:
                parent[child] = node
                queue.append(child)
    return " <-> ".join(component)


def unresolved(template: dict[str, Any]) -> list[str]:
    resources = template.get("Resources") or {}
    parameters = template.get("Parameters") or {}
    conditions = template.get("Conditions") or {}
    known_refs = set(resources) | set(parameters) | PSEUDO_PARAMETERS
    problems = []
    sections = {"Resources": resources, "Outputs": template.get("Outputs") or {}, "Conditions": conditions}
    for section, entries in sections.items():
        for name, entry in entries.items():
            where = f"{section}.{name}"
            if section == "Resources" and isinstance(entry, dict):
                for target in depends_on(entry):
                    if target not in resources:
                        problems.append(f"{where}: DependsOn {target}, which is no resource")
                condition = entry.get("Condition")
                if isinstance(condition, str) and condition not in conditions:
                    problems.append(f"{where}: Condition {condition}, which is not defined")
            for kind, target in references(entry):
                if kind == "Condition":
                    if target not in conditions:
                        problems.append(f"{where}: condition {target} is not defined")
                elif kind == "GetAtt":
                    if target not in resources:
                        problems.append(f"{where}: GetAtt {target}, which is no resource")
                elif target not in known_refs:
                    problems.append(f"{where}: {kind} {target}, which is no resource, parameter or pseudo-parameter")
    return sorted(set(problems))


# ---- readers the other checks share ------------------------------------------------------


def function_ids(template: dict[str, Any]) -> list[str]:
    return sorted(
        k for k, r in (template.get("Resources") or {}).items() if (r or {}).get("Type") == "AWS::Serverless::Function"
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
