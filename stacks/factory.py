"""The one app factory: `app.py` and the tests build the same app from the same context."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks

from constructs_lib.config import AppConfig, ContextCacheError, EnvironmentConfig, Problem
from constructs_lib.core import (
    DELIVERY_ENVIRONMENT,
    PIPELINE,
    Naming,
    apply_mandatory_tags,
    apply_name_tags,
    mandatory_tags,
    pipeline_stack_name,
)
from constructs_lib.network import MissingLookupError, s3_prefix_list_name
from stacks.web_tier_stage import WebTierStage

PACKAGE_JSON = Path(__file__).resolve().parents[1] / "package.json"


def create_app(
    context: Mapping[str, Any] | None = None, *, cfn_guard_plugin: bool = False, **app_props: Any
) -> cdk.App:
    """Build the whole app. Raises `ConfigError` before any construct exists if config is invalid.

    `context` is for callers other than the CDK CLI (tests, benchmarks): `cdk.App` does not read
    cdk.json itself, the CLI passes it in. cdk-nag always runs. cfn-guard runs once over the
    synthesized templates (`make cfn-guard`, tools/cfn_guard.py); `cfn_guard_plugin=True` runs
    it inside this synth instead, as a validation plugin.
    """
    app = cdk.App(context=dict(context) if context is not None else None, **app_props)
    config = AppConfig.from_context(app.node.get_all_context())
    stages: dict[str, WebTierStage] = {}
    missing: list[Problem] = []
    for environment in config.selected_environments:
        try:
            stages[environment.name] = WebTierStage(
                app,
                WebTierStage.construct_id(environment),
                config=config,
                environment=environment,
            )
        except MissingLookupError as lookup:
            # Every environment is tried, so that one run names every entry to look up.
            missing.append(missing_prefix_list(environment, lookup))
    if missing:
        raise ContextCacheError(missing)
    if config.pipeline is not None and not config.narrowed:
        # Imported only when the pipeline is built: its modules (CDK Pipelines, CodeBuild,
        # CodePipeline) take about 1.5 s to import, which `make diff/deploy ENV=...` never needs.
        from stacks.pipeline_stack import PipelineStack

        naming = Naming(environment=DELIVERY_ENVIRONMENT, project=config.project)
        # ID and name alike, so that `cdk deploy webapp-pipeline` finds it as written.
        pipeline = PipelineStack(
            app,
            pipeline_stack_name(config.project),
            stack_name=pipeline_stack_name(config.project),
            description=f"Self-mutating delivery pipeline of {config.project}",
            env=cdk.Environment(account=config.pipeline.account, region=config.pipeline.region),
            termination_protection=True,
            project=config.project,
            pipeline_config=config.pipeline,
            stages=stages,
            cli_version=pinned_cli_version(),
        )
        tags = mandatory_tags(naming, owner=config.owner, cost_center=config.cost_center)
        apply_name_tags(pipeline, naming=naming, component=PIPELINE)
        apply_mandatory_tags(pipeline, tags)
    # Registered once, on the whole App: any unacknowledged finding fails synth.
    cdk.Validations.of(app).add_plugins(*compliance_packs(app, cfn_guard_plugin=cfn_guard_plugin))
    return app


def missing_prefix_list(environment: EnvironmentConfig, lookup: MissingLookupError) -> Problem:
    allowed = (
        f"the AWS-only egress mode needs {s3_prefix_list_name(lookup.region)} (the S3 prefix "
        f"list of {lookup.region}), and cdk.context.json has none for account {lookup.account}: "
        f"with AWS credentials for that account (bootstrapped), run `make context "
        f"ENV={environment.name}` and commit cdk.context.json"
    )
    return Problem(f"environments.{environment.name}.natGateways", 0, allowed)


def compliance_packs(
    app: cdk.App, *, cfn_guard_plugin: bool = False
) -> list[cdk.IPolicyValidationPlugin]:
    packs: list[cdk.IPolicyValidationPlugin] = [AwsSolutionsChecks(app), NIST80053R5Checks(app)]
    if not cfn_guard_plugin:
        return packs
    # A development dependency (pyproject.toml): the CLI path runs on the runtime set alone.
    from tools import cfn_guard

    return [*packs, cfn_guard.CfnGuardPlugin()]


def pinned_cli_version() -> str:
    """The aws-cdk CLI version of package.json: the pipeline runs what developers run."""
    version: str = json.loads(PACKAGE_JSON.read_text())["devDependencies"]["aws-cdk"]
    return version
