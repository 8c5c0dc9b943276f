"""Thirteen places where moto 5.2.5's CloudFormation does not do what CloudFormation does.

The emulator runs inside this Python process (`ThreadedMotoServer`), so patching moto's classes here
changes the server. Each fix makes moto do with a template what the real service does with it; none
skips a resource or changes a value the app asked for. They are written against the moto version
pinned in pyproject.toml (dev group): when it changes, check each one against the function it wraps.
"""

from __future__ import annotations

import json
import re
from graphlib import TopologicalSorter
from typing import Any

from moto.autoscaling.models import FakeAutoScalingGroup, autoscaling_backends
from moto.cloudformation import parsing
from moto.cloudformation.models import CloudFormationBackend, Stack
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends
from moto.ec2.models.flow_logs import FlowLogs
from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.subnets import SubnetBackend, SubnetRouteTableAssociation
from moto.ec2.models.vpcs import VPCEndPoint
from moto.ec2.models.vpn_gateway import VPCGatewayAttachment
from moto.elbv2.models import FakeListener, FakeLoadBalancer, FakeTargetGroup, elbv2_backends
from moto.iam.models import Group, ManagedPolicy, Role, User, iam_backends
from moto.kms.models import Key
from moto.utilities.utils import get_partition

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
    _create_alarms_with_cloudwatch()
    _delete_resources_in_reverse_dependency_order()
    _keep_stacks_deleted_or_failed()
    _detach_managed_policies_before_deleting_them()
    _delete_what_moto_only_creates()
    _update_auto_scaling_groups_in_place()
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


def _metric_data_queries(metrics: list[Any]) -> list[MetricDataQuery] | None:
    """An alarm's `Metrics` (metric math) as moto's PutMetricAlarm handler builds them."""
    queries = []
    for query in metrics:
        stat = query.get("MetricStat")
        metric_stat = None
        if stat is not None:
            metric = stat["Metric"]
            metric_stat = MetricStat(
                metric=Metric(
                    metric_name=metric["MetricName"],
                    namespace=metric.get("Namespace"),
                    dimensions=[
                        Dimension(name=d["Name"], value=d["Value"])
                        for d in metric.get("Dimensions", [])
                    ],
                ),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        queries.append(
            MetricDataQuery(
                query_id=query["Id"],
                label=query.get("Label"),
                period=query.get("Period"),
                return_data=query.get("ReturnData"),
                expression=query.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries or None


def _put_alarm(backend: CloudWatchBackend, name: str, properties: dict[str, Any]) -> Alarm:
    """PutMetricAlarm, or PutCompositeAlarm for `AlarmRule` (moto keeps both as one model)."""
    # Any: moto's hints want values where its own handler passes None for an absent parameter.
    put: Any = backend.put_metric_alarm
    return put(  # type: ignore[no-any-return]
        name=name,
        namespace=properties.get("Namespace"),
        metric_name=properties.get("MetricName"),
        metric_data_queries=_metric_data_queries(properties.get("Metrics", [])),
        comparison_operator=properties.get("ComparisonOperator"),
        evaluation_periods=properties.get("EvaluationPeriods"),
        datapoints_to_alarm=properties.get("DatapointsToAlarm"),
        period=properties.get("Period"),
        threshold=properties.get("Threshold"),
        statistic=properties.get("Statistic"),
        extended_statistic=properties.get("ExtendedStatistic"),
        description=properties.get("AlarmDescription"),
        dimensions=properties.get("Dimensions", []),
        alarm_actions=properties.get("AlarmActions", []),
        ok_actions=properties.get("OKActions", []),
        insufficient_data_actions=properties.get("InsufficientDataActions", []),
        unit=properties.get("Unit"),
        actions_enabled=properties.get("ActionsEnabled", True),
        treat_missing_data=properties.get("TreatMissingData"),
        evaluate_low_sample_count_percentile=properties.get("EvaluateLowSampleCountPercentile"),
        threshold_metric_id=properties.get("ThresholdMetricId"),
        rule=properties.get("AlarmRule"),
        tags=properties.get("Tags", []),
    )


class _AlarmModel:
    """What CloudFormation does with an alarm of either type, through moto's CloudWatch backend."""

    def __init__(self, alarm: Alarm) -> None:
        self.name = alarm.name
        self.arn = alarm.alarm_arn

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise NotImplementedError(f"{attribute_name} of an alarm")

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _AlarmModel:
        backend = cloudwatch_backends[account_id][region_name]
        return cls(_put_alarm(backend, resource_name, cloudformation_json["Properties"]))

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: _AlarmModel,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> _AlarmModel:
        # moto generates a new name for every update: a generated name stays as it was.
        name = cloudformation_json["Properties"].get("AlarmName", original_resource.name)
        if name != original_resource.name:
            cls.delete_from_cloudformation_json(
                original_resource.name, cloudformation_json, account_id, region_name
            )
        return cls.create_from_cloudformation_json(
            name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])


# Holds the two alarm models: moto finds models through `__subclasses__`, which holds them weakly.
_ALARM_MODELS: list[type] = []


def _create_alarms_with_cloudwatch() -> None:
    """`AWS::CloudWatch::Alarm` and `AWS::CloudWatch::CompositeAlarm`, and their `Arn` attribute.

    moto 5.2.5 has no CloudFormation model for either type: it skips them (DescribeStackResources
    lists them without a type), DescribeAlarms shows none, and anything that names one with
    `Fn::GetAtt` (a dashboard's alarm widget, a zonal-shift control condition) fails the stack
    with "Fn::GetAtt references undefined resource". CloudFormation creates them with
    PutMetricAlarm and PutCompositeAlarm, answers `Ref` with the name and `Fn::GetAtt Arn` with
    `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`, updates them in place (a new
    `AlarmName` replaces one) and deletes them with DeleteAlarms, which is what these do with
    moto's CloudWatch backend.
    """

    class MetricAlarmModel(_AlarmModel, CloudFormationModel):
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

    class CompositeAlarmModel(_AlarmModel, CloudFormationModel):
        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::CompositeAlarm"

    _ALARM_MODELS.extend([MetricAlarmModel, CompositeAlarmModel])
    # moto caches its type -> model map the first time it parses a template.
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


# `${Name}` or `${Name.Attribute}` in an `Fn::Sub` string; `${!Literal}` is text, not a reference.
_SUB_VARIABLE = re.compile(r"\$\{(?!!)(?P<name>[^}.]+)[^}]*\}")


def _references(value: Any) -> set[str]:
    """The logical IDs (and parameters) that `Ref`, `Fn::GetAtt` and `Fn::Sub` in `value` name."""
    if isinstance(value, list):
        return set().union(*(_references(item) for item in value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, argument in value.items():
        if key == "Ref" and isinstance(argument, str):
            found.add(argument)
        elif key == "Fn::GetAtt":
            found.add(argument[0] if isinstance(argument, list) else str(argument).split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (
                (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
            )
            found |= {m.group("name") for m in _SUB_VARIABLE.finditer(str(text))} - set(variables)
            found |= _references(variables)
        else:
            found |= _references(argument)
    return found


def _dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical IDs of a template's resources, each after every resource it depends on.

    A resource depends on each resource it names with `Ref`, `Fn::GetAtt`, `Fn::Sub` or
    `DependsOn`, as CloudFormation reads a template.
    """
    graph: dict[str, set[str]] = {}
    for logical_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        named = _references(resource) | set(
            [depends_on] if isinstance(depends_on, str) else depends_on
        )
        graph[logical_id] = {name for name in named if name in resources and name != logical_id}
    return list(TopologicalSorter(graph).static_order())


def _delete_resources_in_reverse_dependency_order() -> None:
    """DeleteStack (and `cdk destroy`) of a stack whose resources depend on one another.

    moto deletes a stack's resources in set order and retries those that raised while a pass
    still deletes one: the outcome is luck, and a resource that cannot go (the role below) ends
    it with the last error. CloudFormation deletes in the reverse of the order the template
    implies (dependents first: `Ref`, `Fn::GetAtt`, `Fn::Sub`, `DependsOn`) and keeps resources
    with `DeletionPolicy: Retain`. This does the same; the first failure ends the deletion and is
    the caller's error, as before.
    """

    def delete(self: parsing.ResourceMap) -> None:
        resources = self._resource_json_map
        for logical_id in reversed(_dependency_order(resources)):
            parsed = self._parsed_resources.get(logical_id)
            retained = resources[logical_id].get("DeletionPolicy") in (
                "Retain",
                "RetainExceptOnCreate",
            )
            if retained or parsed is None or isinstance(parsed, str):
                continue  # kept, or never created (a type moto skips, a false condition)
            self._delete_resource(parsed, resources[logical_id])
            self._parsed_resources.pop(logical_id)

    parsing.ResourceMap.delete = delete  # type: ignore[method-assign]


def _keep_stacks_deleted_or_failed() -> None:
    """A stack after DeleteStack, as DescribeStacks, ListStacks and DescribeStackResources show it.

    moto takes the stack out of its list before deleting its resources, so after a failure the
    stack is gone from DescribeStacks and ListStacks while its resources stay. After a success it
    keeps the stack's template: describing the deleted stack by its ID (which `cdk destroy` does
    while it waits) resolves the outputs and lists the resources through moto's lazy resource
    map, which creates every resource they name again, a second VPC, key, role and buckets that
    belong to no stack. CloudFormation keeps a stack it could not delete, as DELETE_FAILED with
    the reason in its events, and a deleted stack shows neither outputs nor resources.
    """
    delete_stack = CloudFormationBackend.delete_stack

    def delete_stack_or_keep_it_as_failed(
        self: CloudFormationBackend, name_or_stack_id: str
    ) -> None:
        stacks = dict(self.stacks)
        try:
            delete_stack(self, name_or_stack_id)
        except Exception as error:
            for stack_id, stack in stacks.items():
                if stack_id not in self.stacks and stack.stack_id not in self.deleted_stacks:
                    stack.status = "DELETE_FAILED"
                    stack._add_stack_event("DELETE_FAILED", resource_status_reason=str(error))
                    self.stacks[stack_id] = stack
            raise

    CloudFormationBackend.delete_stack = delete_stack_or_keep_it_as_failed  # type: ignore[method-assign]

    delete = Stack.delete

    def delete_and_forget_resources(self: Stack) -> None:
        delete(self)
        self.resource_map._resource_json_map = {}
        self.output_map = parsing.OutputMap(self.resource_map, {}, self.stack_id)

    Stack.delete = delete_and_forget_resources  # type: ignore[method-assign]


def _detach_managed_policies_before_deleting_them() -> None:
    """`AWS::IAM::ManagedPolicy` when its stack is deleted.

    moto has no delete handler for the type, so the policy stays, still attached to the roles its
    `Roles` property names, and deleting such a role then fails with DeleteConflict "Cannot delete
    entity, must detach all policies first" (every role of this app that has a managed policy).
    CloudFormation detaches the policy from each role, user and group, then deletes it.
    """

    def delete_from_cloudformation_json(
        cls: type[ManagedPolicy],
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        backend = iam_backends[account_id][get_partition(region_name)]
        policy = backend.managed_policies.get(resource_name)  # the physical ID is the ARN
        if policy is None:
            return
        entities: list[Role | User | Group] = [
            *backend.roles.values(),
            *backend.users.values(),
            *backend.groups.values(),
        ]
        for entity in entities:
            if policy.arn in entity.managed_policies:
                policy.detach_from(entity)
        backend.delete_policy(policy.arn)

    ManagedPolicy.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)  # type: ignore[assignment]


def _delete_what_moto_only_creates() -> None:
    """Eight resource types of this app that moto creates from a template but never deletes.

    moto has no delete handler for them and skips them silently when their stack is deleted, so
    they outlive it: route tables (the VPC's deletion then fails with DependencyViolation, "has
    dependencies"), route-table associations, the internet gateway and its attachment, interface
    endpoints, flow logs, listeners and target groups. CloudFormation deletes each with its
    service's API, after the resources that depend on it, which is what these do. (Routes and
    security-group rules go with their table and group, as in EC2.)
    """

    def disassociate(association: SubnetRouteTableAssociation, ec2: Any) -> None:
        route_table = ec2.get_route_table(association.route_table_id)
        for association_id, subnet_id in list(route_table._associations.items()):
            if subnet_id == association.subnet_id:
                ec2.disassociate_route_table(association_id)
        ec2.subnet_associations.pop(f"{association.route_table_id}:{association.subnet_id}", None)

    def detach(attachment: VPCGatewayAttachment, ec2: Any) -> None:
        if str(attachment.gateway_id).startswith("igw-"):
            ec2.detach_internet_gateway(attachment.gateway_id, attachment.vpc_id)
        else:
            ec2.detach_vpn_gateway(attachment.gateway_id, attachment.vpc_id)

    ec2_deletions: dict[type, Any] = {
        RouteTable: lambda table, ec2: ec2.delete_route_table(table.id),
        SubnetRouteTableAssociation: disassociate,
        InternetGateway: lambda gateway, ec2: ec2.delete_internet_gateway(gateway.id),
        VPCGatewayAttachment: detach,
        VPCEndPoint: lambda endpoint, ec2: ec2.delete_vpc_endpoints([endpoint.id]),
        FlowLogs: lambda flow_log, ec2: ec2.delete_flow_logs([flow_log.id]),
    }
    for model, delete_with_ec2 in ec2_deletions.items():

        def delete(
            self: Any, account_id: str, region_name: str, delete_with_ec2: Any = delete_with_ec2
        ) -> None:
            delete_with_ec2(self, ec2_backends[account_id][region_name])

        model.delete = delete  # type: ignore[attr-defined]

    def delete_listener(self: FakeListener, account_id: str, region_name: str) -> None:
        elbv2_backends[account_id][region_name].delete_listener(self.arn)

    def delete_target_group(self: FakeTargetGroup, account_id: str, region_name: str) -> None:
        elbv2_backends[account_id][region_name].delete_target_group(self.arn)

    FakeListener.delete = delete_listener  # type: ignore[attr-defined]
    FakeTargetGroup.delete = delete_target_group  # type: ignore[attr-defined]


def _update_auto_scaling_groups_in_place() -> None:
    """UpdateStack that changes a property of an `AWS::AutoScaling::AutoScalingGroup`.

    moto replaces the group on any change: it deletes it and creates one under a new generated
    name, so a change of `MaxSize` alone shows a new group name (and new instance records).
    CloudFormation replaces a group only when `AutoScalingGroupName` or `InstanceId` changes, the
    type's create-only properties; every other property (capacities, subnets, launch template,
    health check) it updates in place with UpdateAutoScalingGroup, which is what this does. A
    change of those two, or of the load balancers or target groups (another API), keeps moto's
    replacement.
    """
    update = FakeAutoScalingGroup.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def update_from_cloudformation_json(
        cls: type[FakeAutoScalingGroup],
        /,
        original_resource: FakeAutoScalingGroup,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> FakeAutoScalingGroup:
        properties = cloudformation_json["Properties"]
        replaced = (
            properties.get("AutoScalingGroupName", original_resource.name) != original_resource.name
            or "InstanceId" in properties
            or properties.get("TargetGroupARNs", []) != original_resource.target_group_arns
            or properties.get("LoadBalancerNames", []) != original_resource.load_balancer_names
        )
        if replaced:
            return update(  # type: ignore[no-any-return]
                cls,
                original_resource,
                new_resource_name,
                cloudformation_json,
                account_id,
                region_name,
            )

        def number(key: str) -> int | None:
            return None if properties.get(key) is None else int(properties[key])

        # Any: moto's hints want values where its code also takes None ("leave as it is").
        backend: Any = autoscaling_backends[account_id][region_name]
        return backend.update_auto_scaling_group(  # type: ignore[no-any-return]
            name=original_resource.name,
            availability_zones=properties.get("AvailabilityZones", []),
            desired_capacity=number("DesiredCapacity"),
            max_size=number("MaxSize"),
            min_size=number("MinSize"),
            launch_config_name=properties.get("LaunchConfigurationName"),
            launch_template=properties.get("LaunchTemplate", {}),
            vpc_zone_identifier=",".join(properties.get("VPCZoneIdentifier", [])) or None,
            health_check_period=number("HealthCheckGracePeriod"),
            health_check_type=properties.get("HealthCheckType"),
            new_instances_protected_from_scale_in=properties.get(
                "NewInstancesProtectedFromScaleIn"
            ),
            mixed_instances_policy=properties.get("MixedInstancesPolicy"),
        )

    FakeAutoScalingGroup.update_from_cloudformation_json = classmethod(  # type: ignore[assignment]
        update_from_cloudformation_json
    )
