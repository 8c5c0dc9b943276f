"""The one app factory: `app.py` and the tests build the same app from the same context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from constructs_lib.config import AppConfig
from stacks.web_tier_stage import WebTierStage


def create_app(context: Mapping[str, Any] | None = None, **app_props: Any) -> cdk.App:
    """Build the whole app. Raises `ConfigError` before any construct exists if config is invalid.

    `context` is for callers other than the CDK CLI (tests, benchmarks): `cdk.App` does not read
    cdk.json itself, the CLI passes it in.
    """
    app = cdk.App(context=dict(context) if context is not None else None, **app_props)
    config = AppConfig.from_context(app.node.get_all_context())
    for environment in config.selected_environments:
        WebTierStage(
            app,
            WebTierStage.construct_id(environment),
            config=config,
            environment=environment,
        )
    # Registered once, on the whole App: any unacknowledged finding fails synth.
    cdk.Validations.of(app).add_plugins(*compliance_packs(app))
    return app


def compliance_packs(app: cdk.App) -> list[AwsSolutionsChecks | NIST80053R5Checks]:
    return [AwsSolutionsChecks(app), NIST80053R5Checks(app)]
