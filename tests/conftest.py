"""Shared fixtures: the app is built once per session from the test fixture's context.

The fixture (tests/fixture_context.json) holds the operator's values (accounts, names, capacities,
domains) the tests assert on; cdk.json's feature flags are added as they are, so the templates
under test are what `cdk synth` makes of the same values. A team that replaces cdk.json's example
values breaks no test: one test (test_app_entrypoint.py) proves that the committed cdk.json
synthesizes and passes cdk-nag, and `make scan` runs every scanner over it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
_NODE = REPO / "node_modules" / ".bin" / "node"
if _NODE.exists():
    # jsii runs on the pinned Node 22 even when pytest is started outside `make`.
    os.environ.setdefault("JSII_NODE", str(_NODE))

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from stacks.factory import create_app  # noqa: E402
from stacks.web_tier_stage import WebTierStage  # noqa: E402
from tests.template_utils import template_of  # noqa: E402
from tools.cloud_assembly import CloudAssembly, read  # noqa: E402
from tools.context import fixture_context  # noqa: E402
from tools.scan_report import SESSION_REPORT  # noqa: E402

# Git-ignored; `make scan` summarizes what it finds there (tools/scan_report.py).
REPORTS = REPO / "reports"


@dataclass(frozen=True)
class Synthesized:
    app: cdk.App
    outdir: Path
    # Every stack of `outdir`, its template parsed once for the whole session.
    assembly: CloudAssembly
    # Keyed by environment name, then component (`network`, `security`, `compute`).
    templates: dict[str, dict[str, Template]]


def synthesize(context: dict[str, Any], outdir: Path, **options: Any) -> Synthesized:
    """The whole app, synthesized into `outdir` as `cdk synth` writes cdk.out."""
    app = create_app(context, outdir=str(outdir), **options)
    app.synth()
    assembly = read(outdir)
    by_path = assembly.by_path
    templates = {
        stage.environment.name: {
            component: template_of(by_path[stack.node.path].template)
            for component, stack in stage.stacks.items()
        }
        for stage in app.node.children
        if isinstance(stage, WebTierStage)
    }
    return Synthesized(app=app, outdir=outdir, assembly=assembly, templates=templates)


@pytest.fixture(scope="session")
def context() -> dict[str, Any]:
    return fixture_context()


@pytest.fixture(scope="session")
def synthesized(context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app of `cdk synth`, built and synthesized once for the whole session.

    aws-cdk-lib's built-in template validation runs in this synth only (app.py leaves it out of
    `cdk synth`), so its report, with cdk-nag's, is kept in reports/ next to the scanners' own.
    cfn-guard is not a plugin here: `make cfn-guard` runs it once over `cdk synth`'s templates.
    """
    synthesized = synthesize(context, tmp_path_factory.mktemp("cdk.out"))
    REPORTS.mkdir(exist_ok=True)
    shutil.copyfile(synthesized.outdir / "validation-report.json", REPORTS / SESSION_REPORT)
    return synthesized


@pytest.fixture(scope="session")
def templates(synthesized: Synthesized) -> dict[str, dict[str, Template]]:
    return synthesized.templates


@pytest.fixture(scope="session")
def prod(templates: dict[str, dict[str, Template]]) -> dict[str, Template]:
    return templates["prod"]


@pytest.fixture(scope="session")
def dev(templates: dict[str, dict[str, Template]]) -> dict[str, Template]:
    return templates["dev"]
