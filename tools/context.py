"""The two contexts the app is built from outside the CDK CLI: cdk.json's, and the test fixture's.

The fixture (tests/fixture_context.json) holds example values in cdk.json's shape: tests assert on
them and the README's picture is drawn from them, so a team that replaces cdk.json's values breaks
neither. cdk.json's feature flags are taken as they are: they decide what the app synthesizes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.cloud_assembly import CloudAssembly

ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = ROOT / "cdk.json"
# The lookups the CLI caches (the S3 prefix lists of the AWS-only egress mode), which it hands the
# app together with cdk.json's context.
CDK_CONTEXT_JSON = ROOT / "cdk.context.json"
FIXTURE_CONTEXT = ROOT / "tests" / "fixture_context.json"


def cdk_json_context() -> dict[str, Any]:
    """A fresh copy of the context the CDK CLI hands the app: cdk.json's and cdk.context.json's."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    context.update(json.loads(CDK_CONTEXT_JSON.read_text()))
    return copy.deepcopy(context)


def fixture_context() -> dict[str, Any]:
    """A fresh copy of the fixture's context: cdk.json's feature flags, the fixture's values and
    the lookups its environments need (in the fixture too, not from cdk.context.json)."""
    flags = {key: value for key, value in cdk_json_context().items() if key.startswith("@")}
    values: dict[str, Any] = json.loads(FIXTURE_CONTEXT.read_text())
    return {**flags, **values}


def example_assembly(outdir: Path) -> CloudAssembly:
    """The app of the fixture's example values, synthesized into `outdir`, as the README's
    picture and cost table describe it (no validation plugins: they need what it holds only)."""
    from stacks.factory import create_app
    from tools.cloud_assembly import read

    create_app(
        fixture_context(),
        outdir=str(outdir),
        cfn_guard_plugin=False,
        builtin_cloud_formation_validation=False,
    ).synth()
    return read(outdir)
