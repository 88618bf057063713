"""CloudFormation intrinsics, resolved against the physical ids of resources created in moto.

Only what a CDK template of this project uses: Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
Fn::Split, Fn::If/Conditions (simple), and the pseudo parameters. Anything else fails loudly, so a
new intrinsic in the CDK app shows up as a clear error instead of a silently wrong local stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from typing import Any

DEFAULT_ACCOUNT = "123456789012"  # moto's default account: its backends are keyed by it
DEFAULT_REGION = "us-east-1"
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
NO_VALUE = object()  # AWS::NoValue: the key is dropped


class TemplateError(ValueError):
    """The template uses something the local stack cannot resolve."""


@dataclass
class Physical:
    """What a created resource answers to Ref and Fn::GetAtt."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class Resolver:
    template: Mapping[str, Any]
    stack_name: str
    region: str = DEFAULT_REGION
    account: str = DEFAULT_ACCOUNT
    resources: dict[str, Physical] = field(default_factory=dict)

    @property
    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{self.account}:stack/{self.stack_name}/local",
        }

    def resolve(self, value: Any) -> Any:
        """Deep-resolves intrinsics; AWS::NoValue removes the key or list item."""
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key.startswith("Fn::") or key == "Condition":
                return self._function(key, arg)
        return {k: r for k, r in ((k, self.resolve(v)) for k, v in value.items()) if r is not NO_VALUE}

    def resolve_str(self, value: Any) -> str:
        resolved = self.resolve(value)
        if not isinstance(resolved, str | int | float):
            raise TemplateError(f"expected a string, got {resolved!r}")
        return str(resolved)

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.resources:
            return self.resources[name].ref
        parameter = (self.template.get("Parameters") or {}).get(name)
        if parameter is not None and "Default" in parameter:
            return parameter["Default"]
        raise TemplateError(f"Ref to {name!r}, which the local stack has not created")

    def _get_att(self, arg: Any) -> str:
        logical, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        physical = self.resources.get(logical)
        if physical is None:
            raise TemplateError(f"Fn::GetAtt of {logical!r}, which the local stack has not created")
        if attribute not in physical.attributes:
            raise TemplateError(f"Fn::GetAtt {logical}.{attribute} is not provided by the local stack")
        return physical.attributes[attribute]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return self._get_att(name)
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::GetAtt":
            return self._get_att(arg)
        if key == "Fn::Join":
            separator, parts = arg
            return str(separator).join(str(p) for p in self.resolve(parts))
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self.resolve(arg)
            return str(text).split(separator)
        if key == "Fn::If":
            condition, when_true, when_false = arg
            return self.resolve(when_true if self.condition(condition) else when_false)
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
            return self._evaluate(key, arg)
        raise TemplateError(f"intrinsic {key} is not supported by the local stack")

    def condition(self, name: str) -> bool:
        conditions = self.template.get("Conditions") or {}
        if name not in conditions:
            raise TemplateError(f"unknown condition {name!r}")
        return bool(self.resolve(conditions[name]))

    def _evaluate(self, key: str, arg: Any) -> bool:
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return bool(left == right)
        values = [bool(self.resolve(a)) for a in arg]
        if key == "Fn::Not":
            return not values[0]
        return all(values) if key == "Fn::And" else any(values)


def references(value: Any) -> set[str]:
    """Logical ids a property value points at (Ref, GetAtt and ${...} inside Sub)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg.split(".", 1)[0] if isinstance(arg, str) else arg[0])
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                found |= {name.split(".", 1)[0] for name in _SUB_VARIABLE.findall(text)}
                if not isinstance(arg, str):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return {name for name in found if not name.startswith("AWS::")}  # pseudo parameters are no resources


def creation_order(resources: Mapping[str, Mapping[str, Any]], wanted: Iterable[str]) -> list[str]:
    """The wanted logical ids, each after the wanted resources it references or DependsOn."""
    wanted_set = set(wanted)
    graph: dict[str, set[str]] = {}
    for logical in sorted(wanted_set):
        resource = resources[logical]
        depends = resource.get("DependsOn") or []
        needs = references(resource.get("Properties") or {}) | set([depends] if isinstance(depends, str) else depends)
        graph[logical] = needs & wanted_set
    return list(TopologicalSorter(graph).static_order())
