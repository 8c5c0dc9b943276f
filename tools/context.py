"""The two contexts the app is built from outside the CDK CLI: cdk.json's, and the test fixture's.

The fixture (tests/fixture_context.json) holds example values in cdk.json's shape: tests assert on
them and the README's picture is drawn from them, so a team that replaces cdk.json's values breaks
neither. cdk.json's feature flags are taken as they are: they decide what the app synthesizes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CDK_JSON = ROOT / "cdk.json"
FIXTURE_CONTEXT = ROOT / "tests" / "fixture_context.json"


def cdk_json_context() -> dict[str, Any]:
    """A fresh copy of cdk.json's context, the same dict the CDK CLI hands the app."""
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return copy.deepcopy(context)


def fixture_context() -> dict[str, Any]:
    """A fresh copy of the fixture's context: cdk.json's feature flags, the fixture's values."""
    flags = {key: value for key, value in cdk_json_context().items() if key.startswith("@")}
    values: dict[str, Any] = json.loads(FIXTURE_CONTEXT.read_text())
    return {**flags, **values}
