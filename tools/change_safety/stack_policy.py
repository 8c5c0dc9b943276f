"""A stack policy that makes CloudFormation itself refuse what the check refuses.

CloudFormation evaluates a stack policy on every update of the stack, whichever tool starts it
(`cdk deploy`, the pipeline, the console). This one allows every update except replacing or
deleting a stateful resource, judged by the same `is_stateful` as the classifier. A stack policy
cannot be removed, only replaced; the README says how to lift it for one deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tools.change_safety.classify import is_stateful, resources


def stateful_logical_ids(template: Mapping[str, Any]) -> list[str]:
    return sorted(lid for lid, resource in resources(template).items() if is_stateful(resource))


def stack_policy(template: Mapping[str, Any]) -> dict[str, Any]:
    allow = {"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}
    protected = stateful_logical_ids(template)
    if not protected:
        return {"Statement": [allow]}
    deny = {
        "Effect": "Deny",
        "Action": ["Update:Replace", "Update:Delete"],
        "Principal": "*",
        "Resource": [f"LogicalResourceId/{lid}" for lid in protected],
    }
    return {"Statement": [allow, deny]}
