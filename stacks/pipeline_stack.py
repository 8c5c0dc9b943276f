from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import pipelines
from constructs import Construct

from constructs_lib.delivery import (
    CDK_ASSETS_VERSION,
    PipelineSection,
    acknowledge_generated_grants,
    artifact_store,
    build_defaults,
    use_connection_under_its_own_prefix,
)
from stacks.web_tier_stage import WebTierStage

# The synth step runs the repository's own target: changing what it does rarely changes the
# pipeline, and a broken synth step cannot repair itself (self-mutation runs after synth).
SYNTH_COMMANDS = ["make pipeline-synth"]
SMOKE_TEST = "bash tools/smoke_test.sh"
# Before each environment (and before prod's approval): that environment's change sets, created
# with the target account's own deploy roles, classified (tools/change_safety); a blocked change
# fails the step and the stage never starts. The same Makefile target a person runs.
CHANGE_SAFETY = "make change-sets ENV={environment} ASSUME_BOOTSTRAP_ROLES=1"
# The roles `cdk bootstrap --trust` lets this pipeline's account assume in each target account.
BOOTSTRAP_ROLES = ("deploy", "file-publishing")


def bootstrap_role_arn(kind: str, environment: cdk.Environment) -> str:
    qualifier = cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER
    account, region = environment.account, environment.region
    return f"arn:aws:iam::{account}:role/cdk-{qualifier}-{kind}-role-{account}-{region}"


class PipelineStack(cdk.Stack):
    """A self-mutating CDK pipeline that rolls every configured environment out in order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str,
        pipeline_config: PipelineSection,
        stages: Mapping[str, WebTierStage],
        cli_version: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        source = pipelines.CodePipelineSource.connection(
            pipeline_config.repository,
            pipeline_config.branch,
            connection_arn=pipeline_config.connection_arn,
        )
        store = artifact_store(self, project=project)
        synth = pipelines.ShellStep(
            "Synth", input=source, commands=SYNTH_COMMANDS, primary_output_directory="cdk.out"
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            artifact_bucket=store.bucket,
            synth=synth,
            self_mutation=True,
            # The CLI developers use (package.json), for self-mutation.
            cli_version=cli_version,
            cdk_assets_cli_version=CDK_ASSETS_VERSION,
            # Deploys into other accounts: artifacts are encrypted with a rotating CMK.
            cross_account_keys=True,
            enable_key_rotation=True,
            docker_enabled_for_synth=False,
            docker_enabled_for_self_mutation=False,
            code_build_defaults=build_defaults(store.build_logs),
        )
        # The very stages `cdk deploy` selects (built once, under the App): the pipeline deploys
        # the same stack names and templates, and the assembly holds each environment once.
        self.stages = {name: stages[name] for wave in pipeline_config.waves for name in wave}
        for wave in pipeline_config.waves:
            if len(wave) == 1:
                self._deploy(self.pipeline, stages[wave[0]], pipeline_config, source, synth)
            else:
                parallel = self.pipeline.add_wave("And".join(stages[n].node.id for n in wave))
                for name in wave:
                    self._deploy(parallel, stages[name], pipeline_config, source, synth)
        # Built now, not lazily at synth, so that its parts exist for the changes below.
        self.pipeline.build_pipeline()
        use_connection_under_its_own_prefix(self.pipeline, pipeline_config.connection_arn)
        acknowledge_generated_grants(self.pipeline, store.bucket)

    @staticmethod
    def _deploy(
        target: pipelines.CodePipeline | pipelines.Wave,
        stage: WebTierStage,
        pipeline_config: PipelineSection,
        source: pipelines.CodePipelineSource,
        synth: pipelines.ShellStep,
    ) -> None:
        """Deploy `stage` after its change-safety check and, where config asks for one, an
        approval; then smoke-test it."""
        assert synth.primary_output is not None
        environment = cdk.Environment(
            account=stage.environment.account, region=stage.environment.region
        )
        change_safety = pipelines.CodeBuildStep(
            f"ChangeSafety{stage.node.id}",
            input=source,
            additional_inputs={"cdk.out": synth.primary_output},
            commands=[CHANGE_SAFETY.format(environment=stage.environment.name)],
            role_policy_statements=[
                iam.PolicyStatement(
                    actions=["sts:AssumeRole"],
                    resources=[bootstrap_role_arn(kind, environment) for kind in BOOTSTRAP_ROLES],
                )
            ],
        )
        pre: list[pipelines.Step] = [change_safety]
        if stage.environment.name in pipeline_config.manual_approval:
            # The approver reads the report in this step's log, linked from the action before.
            approval = pipelines.ManualApprovalStep(
                f"Approve{stage.node.id}",
                comment=f"Read the change-safety report first: the ChangeSafety{stage.node.id} "
                "action's build log",
            )
            approval.add_step_dependency(change_safety)
            pre.append(approval)
        smoke_test = pipelines.ShellStep(
            f"SmokeTest{stage.node.id}",
            input=source,
            env_from_cfn_outputs={"HEALTH_CHECK_URL": stage.compute.health_check_url},
            commands=[f'{SMOKE_TEST} "$HEALTH_CHECK_URL"'],
        )
        target.add_stage(stage, pre=pre, post=[smoke_test])
