"""The TierSecurityGroups alone: the app tier's egress by egress mode, the web tier's ingress by
whether it serves HTTPS, from a literal `security` section."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk.assertions import Match, Template

from constructs_lib.core.testing import Resource, bare_stack, resources
from constructs_lib.security import SecuritySection, TierSecurityGroups

# As cdk.json spells the section.
SECURITY = SecuritySection.model_validate({"dbPort": 5432})


def security_groups(*, aws_only_egress: bool, serves_https: bool) -> Template:
    stack = bare_stack()
    TierSecurityGroups(
        stack,
        "SecurityGroups",
        vpc=ec2.Vpc(stack, "Vpc", max_azs=2),
        serves_https=serves_https,
        app_port=8080,
        section=SECURITY,
        vpc_cidr="10.0.0.0/22",
        s3_prefix_list=(
            ec2.PrefixList.from_prefix_list_id(stack, "S3", "pl-63a5400a")
            if aws_only_egress
            else None
        ),
    )
    return Template.from_stack(stack)


def app_egress_to_addresses(template: Template) -> list[Resource]:
    """The app tier's egress rules to addresses, inline or not; the rules to other tiers aside."""
    ((app_id, app),) = [
        (logical_id, group["Properties"])
        for logical_id, group in resources(template, "AWS::EC2::SecurityGroup").items()
        if group["Properties"]["GroupDescription"].startswith("App tier")
    ]
    separate = [
        rule["Properties"]
        for rule in resources(template, "AWS::EC2::SecurityGroupEgress").values()
        if rule["Properties"]["GroupId"] == {"Fn::GetAtt": [app_id, "GroupId"]}
    ]
    return [
        {key: rule[key] for key in ("CidrIp", "DestinationPrefixListId", "FromPort") if key in rule}
        for rule in [*app["SecurityGroupEgress"], *separate]
        if "DestinationSecurityGroupId" not in rule
    ]


def test_app_tier_behind_nat_gateways_may_reach_https_anywhere() -> None:
    template = security_groups(aws_only_egress=False, serves_https=True)

    assert app_egress_to_addresses(template) == [{"CidrIp": "0.0.0.0/0", "FromPort": 443}]


def test_app_tier_without_nat_may_reach_only_the_vpc_and_s3_over_https() -> None:
    template = security_groups(aws_only_egress=True, serves_https=True)

    assert app_egress_to_addresses(template) == [
        {"CidrIp": "10.0.0.0/22", "FromPort": 443},
        {"DestinationPrefixListId": "pl-63a5400a", "FromPort": 443},
    ]


def test_web_tier_serving_https_admits_only_https_and_its_http_redirect_from_the_internet() -> None:
    template = security_groups(aws_only_egress=False, serves_https=True)

    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("^Web tier"),
            "SecurityGroupIngress": [
                Match.object_like(
                    {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
                ),
                Match.object_like(
                    {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80}
                ),
            ],
        },
    )


def test_web_tier_without_https_admits_only_http_from_the_internet() -> None:
    template = security_groups(aws_only_egress=False, serves_https=False)

    template.has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": Match.string_like_regexp("^Web tier"),
            "SecurityGroupIngress": [
                Match.object_like(
                    {"CidrIp": "0.0.0.0/0", "IpProtocol": "tcp", "FromPort": 80, "ToPort": 80}
                )
            ],
        },
    )
