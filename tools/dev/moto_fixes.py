"""Seven places where moto 5.2.5's CloudFormation does not do what CloudFormation does.

The emulator runs inside this Python process (`ThreadedMotoServer`), so patching moto's classes here
changes the server. Each fix makes moto do with a template what the real service does with it; none
skips a resource or changes a value the app asked for. They are written against the moto version
pinned in pyproject.toml (dev group): when it changes, check each one against the function it wraps.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.elbv2.models import FakeLoadBalancer, FakeTargetGroup
from moto.kms.models import Key

_applied: list[bool] = []
# (stack, logical ID, type) of each resource whose update moto cannot apply (see below).
UPDATES_NOT_APPLIED: list[tuple[str, str, str]] = []


def apply() -> None:
    """Patch moto once per process; later calls do nothing."""
    if _applied:
        return
    _tag_kms_keys_like_cloudformation()
    _associate_route_tables_visibly()
    _keep_defaulted_parameters_on_update()
    _keep_resources_moto_cannot_update()
    _update_exports_with_their_stack()
    _resolve_load_balancer_hosted_zone()
    _resolve_target_group_full_name()
    _applied.append(True)


def _tag_kms_keys_like_cloudformation() -> None:
    """`AWS::KMS::Key` with `Tags` (every key of this app has the mandatory tags).

    moto hands CloudFormation's `Key`/`Value` pairs to its KMS tagger, which wants the KMS API's
    `TagKey`/`TagValue`. The KeyError is swallowed by moto's lazy resource map, and the stack then
    fails with the misleading "Fn::GetAtt references undefined resource <the key>". moto also
    stores a key policy given as a JSON object as it is, so GetKeyPolicy would return an object
    instead of the policy document string KMS returns.
    """
    create = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_from_cloudformation_json(
        cls: type[Key],
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        properties["Tags"] = [
            {"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in properties.get("Tags", [])
        ]
        if isinstance(properties.get("KeyPolicy"), dict):
            properties["KeyPolicy"] = json.dumps(properties["KeyPolicy"])
        return create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[assignment]


def _associate_route_tables_visibly() -> None:
    """`AWS::EC2::SubnetRouteTableAssociation`.

    moto records the association in a list of its own that DescribeRouteTables never reads, so
    every route table looks unassociated and no test can tell which subnet uses which route.
    CloudFormation creates the association with the EC2 API, which is what this adds.
    """
    create = SubnetBackend.create_subnet_association

    def create_subnet_association(self: SubnetBackend, route_table_id: str, subnet_id: str) -> Any:
        association = create(self, route_table_id, subnet_id)
        self.associate_route_table(route_table_id, subnet_id=subnet_id)  # type: ignore[attr-defined]
        return association

    SubnetBackend.create_subnet_association = create_subnet_association  # type: ignore[method-assign]


def _keep_defaulted_parameters_on_update() -> None:
    """UpdateStack with `UsePreviousValue` for a parameter the stack got from its default.

    The CDK CLI sends `BootstrapVersion` that way on every update. moto stores only the parameters
    passed at creation, so it looks up a value it never stored and answers HTTP 500 (KeyError);
    the CLI then retries for about 40 s and fails with an XML parse error. CloudFormation keeps
    the previous value, which for a defaulted parameter is the default again: dropping the entry
    lets moto fall back to that same default.
    """
    resolve = CloudFormationBackend._resolve_update_parameters

    def resolve_update_parameters(
        self: CloudFormationBackend, instance: Any, incoming_params: list[dict[str, str]]
    ) -> dict[str, str]:
        stored = instance.parameters
        kept = [
            parameter
            for parameter in incoming_params
            if not (parameter.get("UsePreviousValue") and parameter["ParameterKey"] not in stored)
        ]
        return resolve(self, instance, kept)

    CloudFormationBackend._resolve_update_parameters = resolve_update_parameters  # type: ignore[method-assign]


def _keep_resources_moto_cannot_update() -> None:
    """A changed property of a resource type moto can create but not update.

    `AWS::ElasticLoadBalancingV2::LoadBalancer` is one: moto then stores None for the resource, the
    stack update "completes", and every later DescribeStacks fails with HTTP 500 because the
    outputs reference a resource that no longer exists. CloudFormation would update the resource;
    keeping it unchanged is the closest moto can come, and each such case is recorded in
    `UPDATES_NOT_APPLIED` so that reports can say what the emulator did not change.
    """
    update = parsing.parse_and_update_resource

    def parse_and_update_resource(
        logical_id: str,
        resource_json: dict[str, Any],
        resources_map: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        updated = update(logical_id, resource_json, resources_map, account_id, region_name)
        kept = resources_map._parsed_resources.get(logical_id)
        if updated is None and kept is not None:
            stack_name = str(resources_map["AWS::StackName"])
            UPDATES_NOT_APPLIED.append((stack_name, logical_id, str(resource_json["Type"])))
            return kept
        return updated

    parsing.parse_and_update_resource = parse_and_update_resource


def _update_exports_with_their_stack() -> None:
    """UpdateStack that adds, changes or removes an export.

    moto registers a stack's exports when the stack is created and never again: after an update
    ListExports still shows a removed export, and an export the update added cannot be imported
    ("No export named ..."). CloudFormation updates them with the stack. (It also refuses to
    remove an export another stack imports; moto does not, and this does not add that check.)
    """
    update = CloudFormationBackend.update_stack

    def update_stack(self: CloudFormationBackend, name: str, *args: Any, **kwargs: Any) -> Any:
        stack = update(self, name, *args, **kwargs)
        current = {export.name: export for export in stack.exports}
        for export_name, export in list(self.exports.items()):
            if export.exporting_stack_id == stack.stack_id and export_name not in current:
                del self.exports[export_name]
        self.exports.update(current)
        return stack

    CloudFormationBackend.update_stack = update_stack  # type: ignore[method-assign]


def _resolve_load_balancer_hosted_zone() -> None:
    """`Fn::GetAtt [<ALB>, CanonicalHostedZoneID]`, which each alias record to a load balancer uses.

    moto lists the attribute as supported but raises NotImplementedError for it, logs a warning and
    leaves the `Fn::GetAtt` object itself in the template: a Route 53 alias record then holds a
    dict as its `HostedZoneId`. CloudFormation returns the load balancer's canonical hosted zone,
    the value DescribeLoadBalancers reports as `CanonicalHostedZoneId`, which this returns.
    """
    get_attribute = FakeLoadBalancer.get_cfn_attribute

    def get_cfn_attribute(self: FakeLoadBalancer, attribute_name: str) -> Any:
        if attribute_name == "CanonicalHostedZoneID":
            return self.canonical_hosted_zone_id
        return get_attribute(self, attribute_name)

    FakeLoadBalancer.get_cfn_attribute = get_cfn_attribute  # type: ignore[method-assign]


def _resolve_target_group_full_name() -> None:
    """`Fn::GetAtt [<target group>, TargetGroupFullName]`, the TargetGroup dimension of its metrics.

    moto 5.2.5 gives target groups no CloudFormation attributes at all, and the base class answers
    with an error that fails the whole stack. CloudFormation returns `targetgroup/<name>/<id>`,
    the resource part of the ARN, which this returns.
    """
    has_attribute = FakeTargetGroup.has_cfn_attr.__func__  # type: ignore[attr-defined]

    def has_cfn_attr(cls: type[FakeTargetGroup], attribute: str) -> bool:
        return attribute == "TargetGroupFullName" or bool(has_attribute(cls, attribute))

    def get_cfn_attribute(self: FakeTargetGroup, attribute_name: str) -> Any:
        if attribute_name == "TargetGroupFullName":
            return self.arn.split(":", 5)[5]
        raise NotImplementedError(f"{attribute_name} of a target group")

    FakeTargetGroup.has_cfn_attr = classmethod(has_cfn_attr)  # type: ignore[assignment]
    FakeTargetGroup.get_cfn_attribute = get_cfn_attribute  # type: ignore[attr-defined]
