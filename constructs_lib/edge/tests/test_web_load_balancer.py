"""The WebLoadBalancer alone: HTTPS with a brought certificate, a domain or both, or plain HTTP,
from a literal `edge` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template

from constructs_lib.core.testing import Resource, bare_stack, only, resources
from constructs_lib.edge import EdgeSection, WebLoadBalancer

CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000001"
)
DOMAIN_NAME = "app.example.com"
HOSTED_ZONE_ID = "Z000000000000EXAMPLE1"
# As cdk.json spells the sections.
DOMAIN: dict[str, Any] = {
    "name": DOMAIN_NAME,
    "hostedZoneId": HOSTED_ZONE_ID,
    "hostedZoneName": "example.com",
}


@dataclass(frozen=True)
class Built:
    template: Template
    annotations: Annotations
    # WebLoadBalancer.url, resolved: the compute stack's LoadBalancerUrl output.
    url: Any


def load_balancer_alone(edge: dict[str, Any]) -> Built:
    stack = bare_stack()
    vpc = ec2.Vpc(stack, "Vpc", max_azs=2)
    web = WebLoadBalancer(
        stack,
        "Web",
        vpc=vpc,
        security_group=ec2.SecurityGroup(stack, "WebSecurityGroup", vpc=vpc),
        access_log_bucket=s3.Bucket(stack, "AccessLogs"),
        key=kms.Key(stack, "Key"),
        section=EdgeSection.model_validate(edge),
        app_port=8080,
        health_check_path="/health",
        load_balancer_name="test-webapp-compute-alb",
        waf_log_group_name="aws-waf-logs-test-webapp-compute-waf",
        log_retention_days=7,
        is_production=False,
    )
    return Built(Template.from_stack(stack), Annotations.from_stack(stack), stack.resolve(web.url))


def listeners(template: Template) -> dict[int, Resource]:
    return {
        listener["Properties"]["Port"]: listener["Properties"]
        for listener in resources(template, "AWS::ElasticLoadBalancingV2::Listener").values()
    }


@pytest.fixture(scope="module")
def with_certificate() -> Built:
    return load_balancer_alone({"certificateArn": CERTIFICATE_ARN})


@pytest.fixture(scope="module")
def with_domain() -> Built:
    return load_balancer_alone({"domain": DOMAIN})


@pytest.fixture(scope="module")
def with_domain_and_certificate() -> Built:
    return load_balancer_alone({"domain": DOMAIN, "certificateArn": CERTIFICATE_ARN})


@pytest.fixture(scope="module")
def plain_http() -> Built:
    return load_balancer_alone({})


def test_load_balancer_with_a_certificate_serves_https_with_a_tls13_policy(
    with_certificate: Built,
) -> None:
    https = listeners(with_certificate.template)[443]

    assert https["Protocol"] == "HTTPS"
    assert https["Certificates"] == [{"CertificateArn": CERTIFICATE_ARN}]
    assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")


def test_load_balancer_with_a_certificate_answers_http_only_with_a_permanent_redirect(
    with_certificate: Built,
) -> None:
    (action,) = listeners(with_certificate.template)[80]["DefaultActions"]

    assert action["Type"] == "redirect"
    assert action["RedirectConfig"] == {
        "Protocol": "HTTPS",
        "Port": "443",
        "StatusCode": "HTTP_301",
    }


def test_load_balancer_with_only_a_certificate_needs_no_record_and_requests_no_certificate(
    with_certificate: Built,
) -> None:
    with_certificate.template.resource_count_is("AWS::Route53::RecordSet", 0)
    with_certificate.template.resource_count_is("AWS::CertificateManager::Certificate", 0)


def test_load_balancer_with_only_a_certificate_is_reached_over_https_at_its_own_hostname(
    with_certificate: Built,
) -> None:
    load_balancer_id, _ = only(
        with_certificate.template, "AWS::ElasticLoadBalancingV2::LoadBalancer"
    )

    assert with_certificate.url == {
        "Fn::Join": ["", ["https://", {"Fn::GetAtt": [load_balancer_id, "DNSName"]}]]
    }


def test_load_balancer_with_a_domain_requests_a_dns_validated_certificate_for_it(
    with_domain: Built,
) -> None:
    with_domain.template.has_resource_properties(
        "AWS::CertificateManager::Certificate",
        {
            "DomainName": DOMAIN_NAME,
            "ValidationMethod": "DNS",
            "DomainValidationOptions": [
                {"DomainName": DOMAIN_NAME, "HostedZoneId": HOSTED_ZONE_ID}
            ],
        },
    )


def test_load_balancer_with_a_domain_redirects_http_to_that_name(with_domain: Built) -> None:
    (action,) = listeners(with_domain.template)[80]["DefaultActions"]

    assert action["RedirectConfig"]["Host"] == DOMAIN_NAME


def test_load_balancer_with_a_domain_gives_it_an_alias_record(with_domain: Built) -> None:
    with_domain.template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": f"{DOMAIN_NAME}.",
            "Type": "A",
            "HostedZoneId": HOSTED_ZONE_ID,
            "AliasTarget": Match.any_value(),
        },
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_requests_no_certificate(
    with_domain_and_certificate: Built,
) -> None:
    with_domain_and_certificate.template.resource_count_is(
        "AWS::CertificateManager::Certificate", 0
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_serves_https_with_that_one(
    with_domain_and_certificate: Built,
) -> None:
    with_domain_and_certificate.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 443,
            "Protocol": "HTTPS",
            "Certificates": [{"CertificateArn": CERTIFICATE_ARN}],
        },
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_gives_the_domain_an_alias_record(
    with_domain_and_certificate: Built,
) -> None:
    template = with_domain_and_certificate.template
    load_balancer_id, _ = only(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")

    template.has_resource_properties(
        "AWS::Route53::RecordSet",
        {
            "Name": f"{DOMAIN_NAME}.",
            "Type": "A",
            "HostedZoneId": HOSTED_ZONE_ID,
            "AliasTarget": {
                "HostedZoneId": {"Fn::GetAtt": [load_balancer_id, "CanonicalHostedZoneID"]}
            },
        },
    )


def test_load_balancer_with_a_domain_and_a_brought_certificate_redirects_http_to_the_domain(
    with_domain_and_certificate: Built,
) -> None:
    with_domain_and_certificate.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {
            "Port": 80,
            "DefaultActions": [
                {
                    "Type": "redirect",
                    "RedirectConfig": {
                        "Protocol": "HTTPS",
                        "Host": DOMAIN_NAME,
                        "Port": "443",
                        "StatusCode": "HTTP_301",
                    },
                }
            ],
        },
    )


def test_load_balancer_without_a_certificate_forwards_plain_http_to_the_fleet(
    plain_http: Built,
) -> None:
    found = listeners(plain_http.template)
    target_group_id, _ = only(plain_http.template, "AWS::ElasticLoadBalancingV2::TargetGroup")

    assert sorted(found) == [80]
    assert found[80]["DefaultActions"] == [
        {"Type": "forward", "TargetGroupArn": {"Ref": target_group_id}}
    ]


def test_plain_http_outside_production_is_a_choice_synth_does_not_warn_about(
    plain_http: Built,
) -> None:
    plain_http.annotations.has_no_warning("*", Match.any_value())
