"""The real `WebLoadBalancer` with a domain, deployed into the emulator and read back via the API.

The `local` environment has no domain (moto has no CloudFormation type for ACM certificates, its
load balancer refuses a certificate its ACM does not hold, and it picks hosted-zone IDs itself).
So this module makes what the construct is given in a real account: it creates the public hosted
zone with Route 53's API and imports a self-signed certificate for the name into the emulator's
ACM, then synthesizes `domain_app.py` (the construct alone in a bare stack, with that zone and
certificate ARN) and deploys it with the real CDK CLI, once for the module.

What the emulator cannot show, so nothing here claims it: that ACM issues a DNS-validated
certificate when no `certificateArn` is given (no `AWS::CertificateManager::Certificate`; the synth
tests in constructs_lib/edge/tests/test_web_domain.py cover that branch), that the alias answers DNS
queries (moto serves no DNS), the web ACL (moto skips `AWS::WAFv2::*`), and the redirect's path and
query (not in the template; AWS fills in their defaults, moto reports none). moto 5.2.5 left the
alias record's `HostedZoneId` an unresolved `Fn::GetAtt`; tools/dev/moto_fixes.py resolves it as
CloudFormation does.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.conftest import DOMAIN_APP, Variant, ensure_bootstrapped
from tests.integration.domain_app import DOMAIN, LOAD_BALANCER_NAME, STACK_NAME
from tests.integration.test_deployment import SKIPPED_BY_THE_EMULATOR
from tools.cloud_assembly import CloudAssembly
from tools.context import fixture_context
from tools.dev.emulator import (
    CdkError,
    Emulator,
    cdk_json_with,
    deploy,
    explain_deploy_failure,
    skipped_resources,
    stack_resources,
)

pytestmark = pytest.mark.integration

ZONE_NAME = "webapp-test.example"
DOMAIN_NAME = f"app.{ZONE_NAME}"
# What `elbv2.SslPolicy.RECOMMENDED_TLS` stands for.
TLS13_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class DomainDeployment:
    emulator: Emulator
    assembly: CloudAssembly
    hosted_zone_id: str
    certificate_arn: str
    load_balancer: dict[str, Any]

    def client(self, service: str) -> Any:
        return self.emulator.client(service)


def self_signed_certificate(domain_name: str) -> tuple[bytes, bytes]:
    """A PEM certificate for `domain_name` (subject and SAN) and its private key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain_name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return (
        certificate.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


@pytest.fixture(scope="module")
def domain(
    emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DomainDeployment]:
    """The zone and certificate made through the API, then the construct deployed with them."""
    workdir = tmp_path_factory.mktemp("domain")
    zone = emulator.client("route53").create_hosted_zone(
        Name=ZONE_NAME, CallerReference=STACK_NAME
    )["HostedZone"]
    hosted_zone_id = zone["Id"].rsplit("/", 1)[-1]
    certificate, private_key = self_signed_certificate(DOMAIN_NAME)
    certificate_arn = emulator.client("acm").import_certificate(
        Certificate=certificate, PrivateKey=private_key
    )["CertificateArn"]
    context = fixture_context()
    context[DOMAIN] = {
        "certificateArn": certificate_arn,
        "name": DOMAIN_NAME,
        "hostedZoneId": hosted_zone_id,
        "hostedZoneName": ZONE_NAME,
    }
    # Synthesized in the background while the emulator is bootstrapped (if no test did yet).
    app = Variant(workdir / "app", cdk_json_with(context, [str(DOMAIN_APP)]))
    try:
        ensure_bootstrapped(emulator, workdir)
    except CdkError as error:
        app.kill()
        pytest.fail(f"{error}:\n{error.tail()}")
    assembly = app.assembly()
    try:
        deploy(emulator, assembly)
    except CdkError as error:
        pytest.fail(f"cdk deploy failed:\n{explain_deploy_failure(emulator, assembly, error)}")
    (load_balancer,) = emulator.client("elbv2").describe_load_balancers(Names=[LOAD_BALANCER_NAME])[
        "LoadBalancers"
    ]
    yield DomainDeployment(emulator, assembly, hosted_zone_id, certificate_arn, load_balancer)
    app.kill()
    # What this module made goes with it: the teardown test expects only the session's deployment.
    emulator.client("cloudformation").delete_stack(StackName=STACK_NAME)
    emulator.client("acm").delete_certificate(CertificateArn=certificate_arn)
    emulator.client("route53").delete_hosted_zone(Id=hosted_zone_id)


def records(domain: DomainDeployment) -> list[dict[str, Any]]:
    """Every record set of the zone named for the domain, as Route 53's API lists them."""
    listed = domain.client("route53").list_resource_record_sets(HostedZoneId=domain.hosted_zone_id)
    return [
        record
        for record in listed["ResourceRecordSets"]
        if record["Name"].rstrip(".") == DOMAIN_NAME
    ]


def listeners(domain: DomainDeployment) -> dict[int, dict[str, Any]]:
    described = domain.client("elbv2").describe_listeners(
        LoadBalancerArn=domain.load_balancer["LoadBalancerArn"]
    )
    return {listener["Port"]: listener for listener in described["Listeners"]}


def test_the_domain_has_an_alias_record_to_the_load_balancer(domain: DomainDeployment) -> None:
    (record,) = [record for record in records(domain) if record["Type"] == "A"]
    alias = record["AliasTarget"]

    # CDK's alias target for a load balancer is its `dualstack.` name.
    assert alias["DNSName"].rstrip(".").lower() == (
        f"dualstack.{domain.load_balancer['DNSName']}".lower()
    )
    assert alias["HostedZoneId"] == domain.load_balancer["CanonicalHostedZoneId"]
    assert "ResourceRecords" not in record


def test_the_domain_has_no_aaaa_record_for_the_ipv4_only_load_balancer(
    domain: DomainDeployment,
) -> None:
    assert domain.load_balancer["IpAddressType"] == "ipv4"
    assert [record["Type"] for record in records(domain)] == ["A"]


def test_https_listener_serves_the_certificate_for_the_domain(domain: DomainDeployment) -> None:
    https = listeners(domain)[443]

    assert https["Protocol"] == "HTTPS"
    assert [c["CertificateArn"] for c in https["Certificates"]] == [domain.certificate_arn]
    assert https["SslPolicy"] == TLS13_POLICY
    served = domain.client("acm").describe_certificate(CertificateArn=domain.certificate_arn)
    assert served["Certificate"]["DomainName"] == DOMAIN_NAME


def test_http_listener_redirects_permanently_to_https_on_the_domain(
    domain: DomainDeployment,
) -> None:
    http = listeners(domain)[80]

    assert http["Protocol"] == "HTTP"
    (action,) = http["DefaultActions"]
    assert action["Type"] == "redirect"
    # Path and query are not in the template (AWS fills in `/#{path}` and `#{query}`, keeping
    # both); moto reports only what the template set.
    redirect = action["RedirectConfig"]
    assert {key: redirect.get(key) for key in ("Protocol", "Port", "Host", "StatusCode")} == {
        "Protocol": "HTTPS",
        "Port": "443",
        "Host": DOMAIN_NAME,
        "StatusCode": "HTTP_301",
    }


def test_the_emulator_deployed_the_record_and_skipped_only_known_types(
    domain: DomainDeployment,
) -> None:
    (stack,) = domain.assembly.stacks
    deployed = {r.resource_type for r in stack_resources(domain.emulator, STACK_NAME).values()}
    skipped = set(skipped_resources(domain.emulator, stack).values())

    assert "AWS::Route53::RecordSet" in deployed
    assert "AWS::CertificateManager::Certificate" not in stack.resource_types.values()
    assert skipped <= SKIPPED_BY_THE_EMULATOR, sorted(skipped - SKIPPED_BY_THE_EMULATOR)
