"""Shared fixtures: the app is built once per session from cdk.json's context, as `cdk synth` is."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
_NODE = REPO / "node_modules" / ".bin" / "node"
if _NODE.exists():
    # jsii runs on the pinned Node 22 even when pytest is started outside `make`.
    os.environ.setdefault("JSII_NODE", str(_NODE))

from aws_cdk.assertions import Template  # noqa: E402

from stacks.factory import create_app  # noqa: E402
from stacks.web_tier_stage import WebTierStage  # noqa: E402

COMPONENTS = ("network",)


def cdk_json_context() -> dict[str, Any]:
    """A fresh copy of cdk.json's context, the same dict the CDK CLI hands the app."""
    with (REPO / "cdk.json").open() as handle:
        context: dict[str, Any] = json.load(handle)["context"]
    return copy.deepcopy(context)


def synthesize(context: dict[str, Any], outdir: Path) -> dict[str, dict[str, Template]]:
    """Templates of every stack, keyed by environment name and component (`network`, ...)."""
    app = create_app(context, outdir=str(outdir))
    app.synth()
    templates: dict[str, dict[str, Template]] = {}
    for stage in app.node.children:
        if isinstance(stage, WebTierStage):
            assembly = stage.synth()
            templates[stage.environment.name] = {
                component: Template.from_json(
                    assembly.get_stack_artifact(stack.artifact_id).template
                )
                for component, stack in stage.stacks.items()
            }
    return templates


@pytest.fixture(scope="session")
def context() -> dict[str, Any]:
    return cdk_json_context()


@pytest.fixture(scope="session")
def templates(
    context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, Template]]:
    return synthesize(context, tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def prod(templates: dict[str, dict[str, Template]]) -> dict[str, Template]:
    return templates["prod"]


@pytest.fixture(scope="session")
def dev(templates: dict[str, dict[str, Template]]) -> dict[str, Template]:
    return templates["dev"]


@pytest.fixture
def env_var_free() -> Iterator[None]:
    """Nothing below the factory may read the environment; CDK_CONTEXT_JSON would leak in."""
    saved = os.environ.pop("CDK_CONTEXT_JSON", None)
    yield
    if saved is not None:
        os.environ["CDK_CONTEXT_JSON"] = saved
