"""The `Name` tag: `<env>-<project>-<component>-<resource>`, the resource part being the construct's
path inside its stack in lower-kebab case, without CDK's `Resource` and an ID that repeats the
component."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from constructs import Construct

from constructs_lib.core import NETWORK, Naming, apply_name_tags
from constructs_lib.core.testing import Resource, bare_stack, only


def test_a_resource_is_named_by_its_path_inside_its_stack() -> None:
    stack = bare_stack("dev-webapp-network")
    ec2.CfnVPC(Construct(stack, "Network"), "Vpc", cidr_block="10.0.0.0/16")
    sns.Topic(Construct(stack, "Alarms"), "PagingTopic")

    # The walk reads each path in one jsii call: `toString()`, the path and then the type.
    apply_name_tags(stack, naming=Naming(environment="dev", project="webapp"), component=NETWORK)

    template = Template.from_stack(stack)
    assert name_tag(only(template, "AWS::EC2::VPC")) == "dev-webapp-network-vpc"
    assert name_tag(only(template, "AWS::SNS::Topic")) == "dev-webapp-network-alarms-paging-topic"


def name_tag(resource: tuple[str, Resource]) -> str:
    _, properties = resource
    return str(next(t["Value"] for t in properties["Properties"]["Tags"] if t["Key"] == "Name"))
