"""cdk-nag acknowledgments written next to the resource they excuse, each with its reason.

cdk-nag 3 matches a wildcard finding only by its exact text, e.g.
`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:lambda:...:function:orchestrix-dev-*]`, so
`acknowledge_wildcards` renders a resource string the way cdk-nag does (Ref -> `<Name>`,
GetAtt -> `<Logical.Attr>`) and acknowledges exactly the findings it will raise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    cdk.Validations.of(scope).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def finding_text(scope: IConstruct, value: str) -> str:
    return _flatten(cdk.Stack.of(scope).resolve(value))


def acknowledge_wildcards(scope: IConstruct, resources: Iterable[str], reason: str) -> None:
    for resource in resources:
        text = finding_text(scope, resource)
        if "*" in text:
            acknowledge(scope, f"AwsSolutions-IAM5[Resource::{text}]", reason)


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Ref" in value:
            return f"<{value['Ref']}>"
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return f"<{logical}.{attribute}>"
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(_flatten(part) for part in parts)
    raise ValueError(f"cannot render {value!r} as a cdk-nag finding")
