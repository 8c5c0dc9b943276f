"""`make destroy ENV=local` against the emulator: `cdk destroy '**' --force` leaves nothing behind.

Destroys the session's deployment, so conftest runs this module after every other integration test
(after `test_changes.py`, whose updates it destroys too). What it checks is `leftovers`, read back
through the APIs: no stack but the bootstrap one, and none of the VPC, subnets, route tables,
gateways, endpoints, security groups, instances, launch template, group, load balancer, target
group, roles, policies, instance profile, key, buckets, log groups, topics, alarms or dashboard
the app created. moto 5.2.5 left most of them (tools/dev/moto_fixes.py, the deletion fixes).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from botocore.exceptions import ClientError

from tests.integration.conftest import Deployment
from tools.dev.emulator import BOOTSTRAP_STACK, LEFTOVER_KINDS, CdkError, destroy, leftovers

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Teardown:
    before: dict[str, list[str]]
    after: dict[str, list[str]]
    output: str


@pytest.fixture(scope="module")
def teardown(deployment: Deployment) -> Teardown:
    before = leftovers(deployment.emulator)
    try:
        output = destroy(deployment.emulator, deployment.assembly)
    except CdkError as error:
        pytest.fail(f"cdk destroy failed:\n{error.tail(30)}")
    return Teardown(before=before, after=leftovers(deployment.emulator), output=output)


def test_the_check_sees_what_the_app_deployed(deployment: Deployment, teardown: Teardown) -> None:
    """Guards the check itself: each kind it reports empty afterwards held something before."""
    absent = {"NAT gateways"} if deployment.environment.network.nat_gateways == 0 else set()
    assert [kind for kind in LEFTOVER_KINDS if not teardown.before[kind]] == sorted(absent)


def test_cdk_destroy_deletes_every_stack_of_the_app_dependents_first(
    deployment: Deployment, teardown: Teardown
) -> None:
    destroyed = [
        name
        for line in teardown.output.splitlines()
        for name in deployment.assembly.stack_names
        if f"({name}): destroyed" in line
    ]
    assert destroyed == list(reversed(deployment.assembly.stack_names))
    cloudformation = deployment.client("cloudformation")
    for name in deployment.assembly.stack_names:
        with pytest.raises(ClientError, match="does not exist"):
            cloudformation.describe_stacks(StackName=name)


def test_nothing_the_app_created_is_left(teardown: Teardown) -> None:
    assert {kind: ids for kind, ids in teardown.after.items() if ids} == {}


def test_the_bootstrap_stack_stays(deployment: Deployment, teardown: Teardown) -> None:
    stack = deployment.client("cloudformation").describe_stacks(StackName=BOOTSTRAP_STACK)
    assert stack["Stacks"][0]["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
