"""Small readers over synthesized templates, for assertions that `Template` cannot express."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from aws_cdk.assertions import Template

from constructs_lib.core.testing import only, resources
from tools.cloud_assembly import walk

__all__ = ["as_list", "document", "only", "resources", "statements", "template_of", "waits_for"]


# Template -> the JSON it was made from; a jsii object hashes by identity.
_documents: dict[Template, Mapping[str, Any]] = {}


def template_of(document: Mapping[str, Any]) -> Template:
    """A `Template` over `document` that remembers it, so `document()` never fetches it back."""
    template = Template.from_json(dict(document))
    _documents[template] = document
    return template


def document(template: Template) -> Mapping[str, Any]:
    """The template's JSON, parsed once per session (templates are session-scoped).

    Read-only: every test that asks for the same template gets this same document.
    """
    if template not in _documents:
        _documents[template] = template.to_json()
    return _documents[template]


def statements(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """(logical ID, statement) for every statement of every IAM policy in the template."""
    for logical_id, resource in document(template)["Resources"].items():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
                yield logical_id, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def waits_for(template: Mapping[str, Any], logical_id: str) -> set[str]:
    """Everything `logical_id` is created after: DependsOn, Ref and GetAtt, transitively."""
    resources = template["Resources"]
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        resource = resources[pending.pop()]
        direct = set(as_list(resource.get("DependsOn", [])))
        for value in walk(resource.get("Properties", {})):
            if isinstance(value, dict) and "Ref" in value:
                direct.add(value["Ref"])
            elif isinstance(value, dict) and "Fn::GetAtt" in value:
                direct.add(value["Fn::GetAtt"][0])
        for found in direct & resources.keys() - seen:
            seen.add(found)
            pending.append(found)
    return seen
