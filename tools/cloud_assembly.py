"""The one reader of a synthesized cloud assembly (cdk.out), for the tests and tools/dev alike.

`aws_cdk.cx_api` walks the manifests, nested assemblies (one per stage) included, exactly as the
CLI does; this module only turns its stack artifacts into plain, immutable Python values. Each
template is parsed once, here: a jsii round trip per template (`artifact.template`) costs more than
reading the file, and the callers share the result instead of parsing it again. `walk` visits
every value inside one of those templates.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aws_cdk import cx_api

Json = dict[str, Any]


@dataclass(frozen=True)
class Stack:
    """One stack artifact, as the CLI would deploy it."""

    artifact_id: str
    # The construct path ("Prod/Compute"): what the CLI shows and its `**` pattern selects.
    path: str
    stack_name: str
    template: Json
    # The manifest's "aws://account/region" ("aws://unknown-account/unknown-region" for an
    # environment-agnostic stack), and its two parts.
    environment: str = ""
    account: str = ""
    region: str = ""
    template_bytes: int = 0
    # Artifact IDs of the stacks this one is deployed after.
    dependencies: tuple[str, ...] = ()
    # What cdk-assets would publish for this stack, by asset-manifest file.
    asset_manifests: Mapping[Path, Json] = field(default_factory=dict)

    @property
    def resource_types(self) -> dict[str, str]:
        """Logical ID -> type of every resource in the template."""
        return {
            logical_id: str(resource["Type"])
            for logical_id, resource in self.template.get("Resources", {}).items()
        }


@dataclass(frozen=True)
class CloudAssembly:
    """Every stack of an assembly and its nested ones, each after the stacks it depends on."""

    directory: Path
    stacks: tuple[Stack, ...] = ()
    # Context lookups the app could not resolve offline, from every (nested) manifest.
    missing_context: tuple[str, ...] = ()

    def stack(self, stack_name: str) -> Stack:
        for stack in self.stacks:
            if stack.stack_name == stack_name:
                return stack
        raise KeyError(f"no stack {stack_name!r} in {self.directory}")

    @property
    def stack_names(self) -> list[str]:
        return [stack.stack_name for stack in self.stacks]

    @property
    def by_path(self) -> dict[str, Stack]:
        return {stack.path: stack for stack in self.stacks}


def walk(value: Any) -> Iterator[Any]:
    """Every nested value of a JSON document (a template, a part of one), the document included."""
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def read(directory: Path) -> CloudAssembly:
    """The cloud assembly `cdk synth` (or `app.synth()`) wrote into `directory`."""
    if not (directory / "manifest.json").is_file():
        raise FileNotFoundError(f"no cloud assembly in {directory}: run `make synth` first")
    assembly = cx_api.CloudAssembly(str(directory))
    artifacts = assembly.stacks_recursively
    stack_ids = {artifact.id for artifact in artifacts}
    stacks = [_stack(artifact, stack_ids) for artifact in artifacts]
    return CloudAssembly(
        directory=directory,
        stacks=_in_deployment_order(stacks),
        missing_context=tuple(key for found in _assemblies(assembly) for key in _missing(found)),
    )


def _stack(artifact: cx_api.CloudFormationStackArtifact, stack_ids: set[str]) -> Stack:
    template_file = Path(artifact.template_full_path)
    directory = template_file.parent
    dependencies = [dependency.id for dependency in artifact.dependencies]
    # jsii hands asset-manifest artifacts back as bare CloudArtifacts (no `file`, and reading their
    # manifest fails), so their file is found by the name the stack synthesizer gives it.
    asset_files = [directory / f"{d}.json" for d in dependencies if d not in stack_ids]
    return Stack(
        artifact_id=artifact.id,
        path=artifact.hierarchical_id,
        stack_name=artifact.stack_name,
        template=json.loads(template_file.read_text()),
        environment=artifact.environment.name,
        account=artifact.environment.account,
        region=artifact.environment.region,
        template_bytes=template_file.stat().st_size,
        dependencies=tuple(d for d in dependencies if d in stack_ids),
        asset_manifests={path: json.loads(path.read_text()) for path in asset_files},
    )


def _assemblies(assembly: cx_api.CloudAssembly) -> Iterator[cx_api.CloudAssembly]:
    yield assembly
    for nested in assembly.nested_assemblies:
        yield from _assemblies(nested.nested_assembly)


def _missing(assembly: cx_api.CloudAssembly) -> list[str]:
    # `assembly.manifest` cannot cross jsii (its artifacts' properties are a union it fails to
    # serialize), so this one list is read from the manifest file.
    manifest = json.loads((Path(assembly.directory) / "manifest.json").read_text())
    return [str(entry["key"]) for entry in manifest.get("missing", [])]


def _in_deployment_order(stacks: list[Stack]) -> tuple[Stack, ...]:
    """Each stack after its dependencies, otherwise in the manifests' order."""
    by_id = {stack.artifact_id: stack for stack in stacks}
    ordered: dict[str, Stack] = {}
    visiting: set[str] = set()

    def visit(stack: Stack) -> None:
        if stack.artifact_id in ordered:
            return
        if stack.artifact_id in visiting:
            raise ValueError(f"dependency cycle through stack {stack.artifact_id}")
        visiting.add(stack.artifact_id)
        for dependency in stack.dependencies:
            visit(by_id[dependency])
        ordered[stack.artifact_id] = stack

    for stack in stacks:
        visit(stack)
    return tuple(ordered.values())


# The mandatory tag every resource of an environment carries (constructs_lib/core/_tags.py).
ENVIRONMENT_TAG = "Environment"


def resource_tag(resource: Json, key: str) -> str | None:
    """A tag of a resource as the template writes it (a list of Key/Value, or a map), if set."""
    tags = resource.get("Properties", {}).get("Tags")
    if isinstance(tags, list):
        for tag in tags:
            if (
                isinstance(tag, dict)
                and tag.get("Key") == key
                and isinstance(tag.get("Value"), str)
            ):
                value: str = tag["Value"]
                return value
    elif isinstance(tags, dict) and isinstance(tags.get(key), str):
        mapped: str = tags[key]
        return mapped
    return None


def tagged_environment(stack: Stack) -> str | None:
    """The `Environment` tag most of the stack's resources carry, if any."""
    values = Counter(
        tag_value
        for resource in stack.template.get("Resources", {}).values()
        if (tag_value := resource_tag(resource, ENVIRONMENT_TAG)) is not None
    )
    return values.most_common(1)[0][0] if values else None
