"""CDK app entry point for the export-removal test: the real app, minus one cross-stack use.

The compute stack stops consuming the access-log bucket (the load balancer's access logs are
switched off), which removes the security stack's export of the bucket name. CloudFormation refuses
to delete an export that another stack still imports, so this takes two deploys:

- `keep`: the load balancer stops using the bucket; the security stack keeps the export with
  `export_value(...)` (the same export name CDK generated), so the deploy of the security stack
  that runs first deletes nothing another stack imports.
- `remove`: without `export_value`, the export goes; nothing imports it any more.

The CLI runs this file as the app (`"app"` in a temporary cdk.json; the step is the context key
below). Production code never imports it.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_elasticloadbalancingv2 as elbv2  # noqa: E402

from stacks.factory import create_app  # noqa: E402
from stacks.web_tier_stage import WebTierStage  # noqa: E402

STEP = "webapp-test:exportRemovalStep"
KEEP_EXPORT = "keep"
REMOVE_EXPORT = "remove"
ACCESS_LOG_ATTRIBUTES = ("access_logs.s3.enabled", "access_logs.s3.bucket", "access_logs.s3.prefix")
# What the compliance packs say about a load balancer without access logs; acknowledged here only.
ACCESS_LOG_RULES = ("AwsSolutions-ELB2", "NIST.800.53.R5-ELBLoggingEnabled")


def main() -> int:
    app = create_app()
    step = app.node.try_get_context(STEP)
    if step not in (KEEP_EXPORT, REMOVE_EXPORT):
        print(f"context {STEP} must be {KEEP_EXPORT!r} or {REMOVE_EXPORT!r}", file=sys.stderr)
        return 1
    for stage in app.node.children:
        if not isinstance(stage, WebTierStage):
            continue
        for node in stage.compute.node.find_all():
            if isinstance(node, elbv2.ApplicationLoadBalancer):
                for attribute in ACCESS_LOG_ATTRIBUTES:
                    node.remove_attribute(attribute)
                for rule in ACCESS_LOG_RULES:
                    cdk.Validations.of(node).acknowledge(
                        cdk.Acknowledgment(
                            id=rule, reason="integration test of removing a cross-stack export"
                        )
                    )
        if step == KEEP_EXPORT:
            stage.security.export_value(stage.security.access_log_bucket.bucket_name)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
