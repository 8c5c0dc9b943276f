"""What every component's tests share: a bare stack to build one construct in, and small
readers over its template.

For tests only: the package's `__init__` does not import it, so the app never loads
aws_cdk.assertions. In core, so that each component's tests may import it and it may import no
component (the layers contract in pyproject.toml).
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

ACCOUNT = "123456789012"
REGION = "us-east-1"
AVAILABILITY_ZONES = ("us-east-1a", "us-east-1b")

Resource = dict[str, Any]


def bare_stack(stack_name: str | None = None) -> cdk.Stack:
    """A stack of its own in an app of its own: no cdk.json, no context, no validation plugins.

    Without aws-cdk-lib's built-in template validation: its engine costs about 6 s of CPU to
    start, more than a whole test file, and the app's session synth runs it over every template
    the components build.
    """
    app = cdk.App(builtin_cloud_formation_validation=False)
    return cdk.Stack(
        app,
        "Alone",
        stack_name=stack_name,
        env=cdk.Environment(account=ACCOUNT, region=REGION),
    )


def resources(template: Template, resource_type: str) -> dict[str, Resource]:
    return {k: dict(v) for k, v in template.find_resources(resource_type).items()}


def only(template: Template, resource_type: str) -> tuple[str, Resource]:
    found = resources(template, resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {sorted(found)}"
    return next(iter(found.items()))
