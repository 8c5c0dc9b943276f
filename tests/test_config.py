"""Every rule of the cdk.json context, and the AWS name limits that config validation enforces.

Each test breaks one value in a fresh copy of the test fixture's context
(tests/fixture_context.json: cdk.json's shape, example values) and checks that the error names the
key path, the bad value and what is allowed. No App is built, so these run in milliseconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs
import pytest
from pydantic import ValidationError

from constructs_lib.config import AppConfig, ConfigError, Problem, RolloutConfig
from constructs_lib.core import InvalidNameError, NameKind, Naming, is_lower_word
from tests.conftest import REPO
from tools.config_schema import SCHEMA_FILE, json_schema
from tools.context import cdk_json_context, fixture_context

Context = dict[str, Any]

# The fixture's environments; cdk.json may name its own.
COMMITTED_ENVIRONMENTS = ("dev", "staging", "prod", "local")
CERTIFICATE_ARN = (
    "arn:aws:acm:us-east-1:333333333333:certificate/00000000-0000-4000-8000-000000000003"
)


def with_values(environment: str, **values: object) -> Context:
    """The fixture's context with `values` set on one environment."""
    context = fixture_context()
    context["environments"][environment].update(values)
    return context


def without_key(environment: str, key: str) -> Context:
    context = fixture_context()
    del context["environments"][environment][key]
    return context


def problems(context: Context) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        AppConfig.from_context(context)
    return caught.value.problems


def only_problem(context: Context) -> Problem:
    """The single problem of a context with one bad value; a cascade of errors would hide it."""
    found = problems(context)
    assert len(found) == 1, found
    return found[0]


def problem_at(context: Context, path: str) -> Problem:
    """The problem reported at `path`, for bad values that also upset a dependent rule."""
    found = problems(context)
    at_path = [p for p in found if p.path == path]
    assert len(at_path) == 1, found
    return at_path[0]


def test_committed_json_schema_is_generated_from_the_models() -> None:
    assert SCHEMA_FILE.read_text() == json_schema(), (
        f"{SCHEMA_FILE.name} is stale: run `make schema`"
    )


def test_committed_cdk_json_is_valid_under_its_json_schema() -> None:
    with (REPO / "cdk.json").open() as handle:
        cdk_json = json.load(handle)

    jsonschema.validate(cdk_json, json.loads(SCHEMA_FILE.read_text()))


def test_committed_cdk_json_parses_whatever_environments_it_names() -> None:
    # Whatever values a team puts there: the fixture, not cdk.json, holds what tests assert on.
    context = cdk_json_context()
    config = AppConfig.from_context(context)

    assert tuple(e.name for e in config.environments) == tuple(context["environments"])


def test_fixture_parses_into_every_environment() -> None:
    config = AppConfig.from_context(fixture_context())

    assert tuple(e.name for e in config.environments) == COMMITTED_ENVIRONMENTS


def test_fixture_is_valid_under_the_json_schema() -> None:
    jsonschema.validate({"context": fixture_context()}, json.loads(SCHEMA_FILE.read_text()))


def test_every_environment_is_selected_when_no_env_is_given() -> None:
    config = AppConfig.from_context(fixture_context())

    assert tuple(e.name for e in config.selected_environments) == COMMITTED_ENVIRONMENTS


def test_optional_keys_take_their_defaults_when_left_out() -> None:
    context = fixture_context()
    dev = context["environments"]["dev"]
    for key in (
        "appPort",
        "dbPort",
        "healthCheckPath",
        "logRetentionDays",
        "interfaceEndpoints",
        "restrictDefaultSecurityGroup",
        "ensureServiceLinkedRole",
        "certificateArn",
        "domainName",
        "hostedZoneId",
        "hostedZoneName",
        "alarmEmail",
        "releaseArtifact",
        "releaseVersionId",
        "releaseSha256",
        "wafRedactedHeaders",
    ):
        dev.pop(key, None)

    (environment,) = (e for e in AppConfig.from_context(context).environments if e.name == "dev")

    assert (
        environment.app_port,
        environment.db_port,
        environment.health_check_path,
        environment.log_retention_days,
        environment.interface_endpoints,
        environment.restrict_default_security_group,
        environment.ensure_service_linked_role,
        environment.certificate_arn,
        environment.domain_name,
        environment.alarm_email,
        environment.release_artifact,
        environment.release_version_id,
        environment.release_sha256,
        environment.waf_redacted_headers,
    ) == (8080, 5432, "/health", 90, True, True, True, None, None, None, None, None, None, ())


def test_null_for_an_optional_key_means_its_default() -> None:
    config = AppConfig.from_context(with_values("prod", alarmEmail=None, logRetentionDays=None))

    (prod,) = (e for e in config.environments if e.name == "prod")
    assert (prod.alarm_email, prod.log_retention_days) == (None, 90)


@pytest.mark.parametrize("selection", ["dev,prod", " dev , prod ", "prod,dev,dev", ["dev", "prod"]])
def test_env_context_narrows_the_selection_to_the_named_environments(selection: object) -> None:
    context = fixture_context()
    context["env"] = selection

    config = AppConfig.from_context(context)

    assert [e.name for e in config.selected_environments] == ["dev", "prod"]


def test_unknown_env_name_is_an_error_listing_the_configured_names() -> None:
    context = fixture_context()
    context["env"] = "dev,qa"

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("env", "qa")
    assert all(f"'{name}'" in problem.allowed for name in COMMITTED_ENVIRONMENTS)


def test_env_that_is_neither_names_nor_a_list_is_rejected_saying_what_is() -> None:
    context = fixture_context()
    context["env"] = 5

    problem = only_problem(context)

    assert (problem.path, problem.value, problem.allowed) == (
        "env",
        5,
        "expected environment names separated by commas, or a list of them",
    )


def test_env_that_is_not_a_string_is_rejected() -> None:
    context = fixture_context()
    context["env"] = ["dev", 2]

    problem = only_problem(context)

    assert (problem.path, problem.value, problem.allowed) == ("env[1]", 2, "expected a string")


def test_selecting_an_environment_with_a_bad_value_reports_only_that_value() -> None:
    context = with_values("prod", vpcCidr="8.8.0.0/16")
    context["env"] = "prod"

    assert only_problem(context).path == "environments.prod.vpcCidr"


@pytest.mark.parametrize("cidr", ["10.30.0.0/33", "10.30.0.1/16", "10.30.0.0/x", "ten.30.0.0/16"])
def test_malformed_vpc_cidr_is_rejected(cidr: str) -> None:
    problem = only_problem(with_values("prod", vpcCidr=cidr))

    assert (problem.path, problem.value) == ("environments.prod.vpcCidr", cidr)
    assert "expected an IPv4 CIDR block" in problem.allowed


@pytest.mark.parametrize("cidr", ["8.8.0.0/16", "100.64.0.0/16", "172.32.0.0/16", "192.169.0.0/16"])
def test_public_vpc_cidr_is_rejected(cidr: str) -> None:
    problem = only_problem(with_values("prod", vpcCidr=cidr))

    assert (problem.path, problem.value) == ("environments.prod.vpcCidr", cidr)
    assert "private (RFC 1918)" in problem.allowed


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.99.0.0/29"])
def test_vpc_prefix_outside_16_to_28_is_rejected(cidr: str) -> None:
    problem = only_problem(with_values("prod", vpcCidr=cidr))

    assert (problem.path, problem.value) == ("environments.prod.vpcCidr", cidr)
    assert "/16 to /28" in problem.allowed


def test_vpc_cidr_too_small_for_three_tiers_per_az_names_the_subnet_size() -> None:
    six_azs = [f"us-east-1{letter}" for letter in "abcdef"]
    context = with_values("dev", vpcCidr="10.10.0.0/24", availabilityZones=six_azs)

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.dev.vpcCidr", "10.10.0.0/24")
    assert "3 tiers x 6 AZs" in problem.allowed
    assert "each subnet would be /29" in problem.allowed
    assert "at least /27" in problem.allowed


def test_vpc_cidr_that_leaves_27_bit_subnets_is_accepted() -> None:
    # 3 tiers x 2 AZs in a /24: six /27 subnets, the smallest an Application Load Balancer takes.
    AppConfig.from_context(with_values("dev", vpcCidr="10.10.0.0/24"))


def test_overlapping_vpc_cidrs_between_environments_are_rejected() -> None:
    problem = only_problem(with_values("dev", vpcCidr="10.30.128.0/17"))

    assert (problem.path, problem.value) == ("environments.prod.vpcCidr", "10.30.0.0/16")
    assert "overlaps environments.dev.vpcCidr (10.30.128.0/17)" in problem.allowed


def test_availability_zone_outside_the_region_is_rejected() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", "us-west-2b"]))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones[1]", "us-west-2b")
    assert "not an availability zone of region us-east-1" in problem.allowed


def test_repeated_availability_zone_is_rejected() -> None:
    azs = ["us-east-1a", "us-east-1b", "us-east-1a"]

    problem = only_problem(with_values("prod", availabilityZones=azs))

    assert (problem.path, problem.value) == ("environments.prod.availabilityZones", azs)
    assert "repeated: ['us-east-1a']" in problem.allowed


@pytest.mark.parametrize(
    "azs",
    [["us-east-1a"], [f"us-east-1{letter}" for letter in "abcdefg"]],
    ids=["one", "seven"],
)
def test_fewer_than_two_or_more_than_six_availability_zones_are_rejected(azs: list[str]) -> None:
    problem = only_problem(with_values("dev", availabilityZones=azs))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones", azs)
    assert "expected 2 to 6 availability zones" in problem.allowed


@pytest.mark.parametrize(
    ("nat_gateways", "expected"),
    [
        (-1, "expected 0 (AWS-only egress) to the number of availabilityZones"),
        (3, "expected 0 to 2"),
    ],
)
def test_nat_gateways_outside_zero_to_the_az_count_are_rejected(
    nat_gateways: int, expected: str
) -> None:
    problem = only_problem(with_values("dev", natGateways=nat_gateways))

    assert (problem.path, problem.value) == ("environments.dev.natGateways", nat_gateways)
    assert problem.allowed.startswith(expected)


def test_no_nat_gateways_without_interface_endpoints_is_rejected_naming_the_combination() -> None:
    problem = only_problem(with_values("staging", natGateways=0, interfaceEndpoints=False))

    assert (problem.path, problem.value) == ("environments.staging.natGateways", 0)
    assert problem.allowed.startswith("natGateways 0 with interfaceEndpoints false is not allowed")


def test_no_nat_gateways_with_interface_endpoints_is_the_aws_only_egress_mode() -> None:
    config = AppConfig.from_context(with_values("staging", natGateways=0))

    (staging,) = (e for e in config.environments if e.name == "staging")
    assert staging.aws_only_egress


def test_no_nat_gateways_is_a_valid_configuration_in_any_region() -> None:
    # The S3 prefix list comes from cdk.context.json at synth (tests/test_network.py).
    context = with_values(
        "staging",
        natGateways=0,
        region="eu-west-1",
        availabilityZones=["eu-west-1a", "eu-west-1b"],
        amiId="ami-0e0e0e0e0e0e0e0e0",
        certificateArn=None,
    )

    (staging,) = (e for e in AppConfig.from_context(context).environments if e.name == "staging")
    assert staging.aws_only_egress


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("false", False)])
def test_lookups_switch_takes_the_strings_the_cdk_cli_passes(value: object, expected: bool) -> None:
    assert AppConfig.from_context({**fixture_context(), "lookups": value}).lookups is expected


def test_lookups_are_off_unless_asked_for() -> None:
    assert not AppConfig.from_context(fixture_context()).lookups


def test_lookups_switch_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem({**fixture_context(), "lookups": "yes"})

    assert (problem.path, problem.value) == ("lookups", "yes")


def test_desired_capacity_is_rejected_saying_what_replaced_it() -> None:
    problem = only_problem(with_values("dev", desiredCapacity=2))

    assert (problem.path, problem.value) == ("environments.dev.desiredCapacity", 2)
    assert problem.allowed.startswith("no longer supported: the group starts at minCapacity")
    assert "would reset a scaled-out fleet on every deploy (remove the key)" in problem.allowed


def test_min_capacity_equal_to_max_capacity_is_rejected_as_the_group_could_not_scale() -> None:
    problem = only_problem(with_values("prod", minCapacity=3, maxCapacity=3))

    assert (problem.path, problem.value) == ("environments.prod.minCapacity", 3)
    assert "must be below maxCapacity (3)" in problem.allowed
    assert "the group scales between them" in problem.allowed


@pytest.mark.parametrize("key", ["minCapacity", "maxCapacity"])
@pytest.mark.parametrize("capacity", [0, -1, 1001])
def test_capacity_outside_1_to_1000_is_rejected(key: str, capacity: int) -> None:
    problem = only_problem(with_values("prod", **{key: capacity}))

    assert (problem.path, problem.value) == (f"environments.prod.{key}", capacity)
    assert problem.allowed == "expected 1 to 1000"


@pytest.mark.parametrize("instance_type", ["t3small", "T3.small", "t3.", "large", "t.small"])
def test_malformed_instance_type_is_rejected(instance_type: str) -> None:
    problem = only_problem(with_values("dev", instanceType=instance_type))

    assert (problem.path, problem.value) == ("environments.dev.instanceType", instance_type)
    assert "EC2 instance type such as t3.small" in problem.allowed


@pytest.mark.parametrize("account", ["11111111111", "1111111111111", "11111111111a"])
def test_account_that_is_not_12_digits_is_rejected(account: str) -> None:
    problem = only_problem(with_values("dev", account=account))

    assert (problem.path, problem.value) == ("environments.dev.account", account)
    assert problem.allowed == "expected 12 digits"


@pytest.mark.parametrize("region", ["us-east", "US-EAST-1", "useast1", "us-east-1a"])
def test_malformed_region_is_rejected(region: str) -> None:
    problem = problem_at(with_values("dev", region=region), "environments.dev.region")

    assert problem.value == region
    assert "region such as us-east-1" in problem.allowed


@pytest.mark.parametrize("ami_id", ["ami-123", "ami-0453ec754f44f9a4", "ami-0453EC754F44F9A4A"])
def test_malformed_ami_id_is_rejected(ami_id: str) -> None:
    problem = only_problem(with_values("dev", amiId=ami_id))

    assert (problem.path, problem.value) == ("environments.dev.amiId", ami_id)
    assert "AMI ID such as ami-0123456789abcdef0" in problem.allowed


@pytest.mark.parametrize("path", ["health", "/health check", ""])
def test_health_check_path_that_is_not_a_url_path_is_rejected(path: str) -> None:
    problem = only_problem(with_values("dev", healthCheckPath=path))

    assert (problem.path, problem.value) == ("environments.dev.healthCheckPath", path)
    assert "URL path starting with '/'" in problem.allowed


def test_app_port_22_is_rejected_because_access_goes_through_session_manager() -> None:
    problem = only_problem(with_values("dev", appPort=22))

    assert (problem.path, problem.value) == ("environments.dev.appPort", 22)
    assert "port 22 is not allowed" in problem.allowed
    assert "SSM Session Manager" in problem.allowed


@pytest.mark.parametrize("port", [0, 65536])
def test_app_port_outside_the_tcp_range_is_rejected(port: int) -> None:
    problem = only_problem(with_values("dev", appPort=port))

    assert (problem.path, problem.value) == ("environments.dev.appPort", port)
    assert "TCP port from 1 to 65535" in problem.allowed


def test_db_port_equal_to_app_port_is_rejected() -> None:
    problem = only_problem(with_values("dev", appPort=8080, dbPort=8080))

    assert (problem.path, problem.value) == ("environments.dev.dbPort", 8080)
    assert problem.allowed == "must differ from appPort"


@pytest.mark.parametrize("days", [0, 2, 45, 366, 3654])
def test_log_retention_that_cloudwatch_does_not_offer_is_rejected(days: int) -> None:
    problem = only_problem(with_values("dev", logRetentionDays=days))

    assert (problem.path, problem.value) == ("environments.dev.logRetentionDays", days)
    assert "expected one of" in problem.allowed
    assert all(str(offered) in problem.allowed for offered in (1, 30, 365, 1827))


@pytest.mark.parametrize("days", [1, 1827, 2192, 3653])
def test_every_retention_cloudwatch_offers_is_accepted(days: int) -> None:
    AppConfig.from_context(with_values("dev", logRetentionDays=days))


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:us-east-1:333333333333:certificate/not-a-uuid",
        "arn:aws:iam::333333333333:server-certificate/web",
        "00000000-0000-4000-8000-000000000003",
    ],
)
def test_certificate_arn_that_is_not_an_acm_certificate_is_rejected(arn: str) -> None:
    problem = only_problem(with_values("prod", certificateArn=arn))

    assert (problem.path, problem.value) == ("environments.prod.certificateArn", arn)
    assert problem.allowed == "expected an ACM certificate ARN"


def test_prod_without_a_certificate_or_a_domain_is_rejected_because_it_serves_https_only() -> None:
    problem = only_problem(
        with_values("prod", domainName=None, hostedZoneId=None, hostedZoneName=None)
    )

    assert (problem.path, problem.value) == ("environments.prod.certificateArn", None)
    assert "production serves HTTPS only" in problem.allowed
    assert "domainName" in problem.allowed


def test_prod_may_serve_https_with_its_own_certificate_on_the_load_balancer_name() -> None:
    AppConfig.from_context(
        with_values(
            "prod",
            domainName=None,
            hostedZoneId=None,
            hostedZoneName=None,
            certificateArn=CERTIFICATE_ARN,
        )
    )


def test_environments_other_than_prod_may_serve_plain_http() -> None:
    AppConfig.from_context(
        with_values(
            "staging", certificateArn=None, domainName=None, hostedZoneId=None, hostedZoneName=None
        )
    )


def test_a_domain_without_certificate_arn_is_accepted_the_app_requests_the_certificate() -> None:
    config = AppConfig.from_context(fixture_context())
    (prod,) = (e for e in config.environments if e.name == "prod")

    assert (prod.domain_name, prod.certificate_arn, prod.serves_https) == (
        "app.example.com",
        None,
        True,
    )


@pytest.mark.parametrize(
    "name",
    [
        "App.example.com",
        "app.example.com.",
        "localhost",
        "*.example.com",
        "-app.example.com",
        "app-.example.com",
        "app_1.example.com",
        "app..example.com",
        f"{'a' * 64}.example.com",
        ".".join(["a" * 60] * 4) + ".example.com",  # 255 characters
        "10.0.0.1",
    ],
)
def test_domain_name_that_is_not_a_dns_host_name_is_rejected(name: str) -> None:
    problem = problem_at(with_values("prod", domainName=name), "environments.prod.domainName")

    assert problem.value == name
    assert problem.allowed == (
        "expected a lower-case DNS name such as app.example.com: labels of 1 to 63 letters, "
        "digits and inner hyphens, 253 characters in all, no trailing dot and no wildcard"
    )


@pytest.mark.parametrize(
    "name",
    [
        f"{'a' * 63}.example.com",
        ".".join(["a" * 61] * 4) + ".abcde",
        "xn--bcher-kva.example",
        "a.b1",
    ],
    ids=["63-character label", "253 characters", "punycode", "digit in the last label"],
)
def test_domain_name_at_the_dns_limits_is_accepted(name: str) -> None:
    assert len(name) <= 253
    config = AppConfig.from_context(
        with_values(
            "dev",
            domainName=name,
            hostedZoneId="Z0123",
            hostedZoneName=name,
            # Names over 64 characters cannot be requested: dev's own account brings one.
            certificateArn=CERTIFICATE_ARN.replace("333333333333", "111111111111"),
        )
    )

    (dev,) = (e for e in config.environments if e.name == "dev")
    assert dev.domain_name == name


def test_hosted_zone_name_that_is_not_a_dns_name_is_rejected() -> None:
    problem = only_problem(with_values("prod", hostedZoneName="Example.com"))

    assert (problem.path, problem.value) == ("environments.prod.hostedZoneName", "Example.com")
    assert "lower-case DNS name" in problem.allowed


@pytest.mark.parametrize("zone_id", ["z000000000000EXAMPLE3", "/hostedzone/Z0123", "Z" * 33, ""])
def test_hosted_zone_id_that_is_not_a_route53_zone_id_is_rejected(zone_id: str) -> None:
    problem = only_problem(with_values("prod", hostedZoneId=zone_id))

    assert (problem.path, problem.value) == ("environments.prod.hostedZoneId", zone_id)
    assert (
        problem.allowed == "expected a Route 53 public hosted zone ID such as Z0123456789ABCDEFGHIJ"
    )


def test_domain_outside_its_hosted_zone_is_rejected() -> None:
    problem = only_problem(with_values("prod", domainName="app.example.org"))

    assert (problem.path, problem.value) == ("environments.prod.domainName", "app.example.org")
    assert problem.allowed.startswith("not inside hostedZoneName (example.com)")


def test_a_name_that_only_ends_like_the_zone_is_not_inside_it() -> None:
    problem = only_problem(with_values("prod", domainName="app.notexample.com"))

    assert problem.path == "environments.prod.domainName"


def test_the_zone_apex_itself_may_be_the_domain() -> None:
    AppConfig.from_context(with_values("prod", domainName="example.com"))


@pytest.mark.parametrize("key", ["hostedZoneId", "hostedZoneName"])
def test_domain_without_its_hosted_zone_is_rejected_naming_the_missing_key(key: str) -> None:
    problem = only_problem(without_key("prod", key))

    assert (problem.path, problem.value) == (f"environments.prod.{key}", None)
    assert problem.allowed.startswith("required with domainName")


@pytest.mark.parametrize("key", ["hostedZoneId", "hostedZoneName"])
def test_hosted_zone_without_a_domain_is_rejected_as_unused(key: str) -> None:
    value = fixture_context()["environments"]["staging"][key]
    problem = only_problem(with_values("dev", **{key: value}))

    assert (problem.path, problem.value) == (f"environments.dev.{key}", value)
    assert problem.allowed.startswith("only used with domainName")


def test_domain_longer_than_acm_allows_is_rejected_when_the_app_requests_the_certificate() -> None:
    name = f"{'a' * 53}.example.com"  # 65 characters
    problem = only_problem(with_values("prod", domainName=name))

    assert (problem.path, problem.value) == ("environments.prod.domainName", name)
    assert problem.allowed.startswith("at most 64 characters")


def test_a_long_domain_is_accepted_with_a_certificate_brought_along() -> None:
    name = f"{'a' * 53}.staging.example.com"
    AppConfig.from_context(with_values("staging", domainName=name))


def test_one_domain_for_two_environments_is_rejected() -> None:
    context = with_values(
        "staging",
        domainName="app.example.com",
        hostedZoneName="example.com",
    )
    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.prod.domainName", "app.example.com")
    assert "also the domainName of environments.staging" in problem.allowed


EMULATOR_SWITCHES = (
    "restrictDefaultSecurityGroup",
    "ensureServiceLinkedRole",
    "emptyBucketsOnDelete",
)


@pytest.mark.parametrize("environment", ["dev", "staging"])
@pytest.mark.parametrize("key", EMULATOR_SWITCHES)
def test_switching_off_a_lambda_backed_protection_outside_the_emulator_is_rejected(
    environment: str, key: str
) -> None:
    problem = only_problem(with_values(environment, **{key: False}))

    assert (problem.path, problem.value) == (f"environments.{environment}.{key}", False)
    assert "may be false only in an environment declared emulator-only (emulator: true)" in (
        problem.allowed
    )


def test_service_linked_role_switch_outside_the_emulator_names_the_rejected_key_policy() -> None:
    problem = only_problem(with_values("prod", ensureServiceLinkedRole=False))

    assert "KMS rejects the key policy" in problem.allowed


def test_production_may_say_explicitly_that_it_keeps_its_buckets() -> None:
    config = AppConfig.from_context(with_values("prod", emptyBucketsOnDelete=False))

    assert not {e.name: e for e in config.environments}["prod"].empties_buckets_on_delete


def test_every_protection_switched_off_in_real_accounts_is_reported_in_one_run() -> None:
    context = fixture_context()
    for environment in ("dev", "staging"):
        context["environments"][environment].update(dict.fromkeys(EMULATOR_SWITCHES, False))

    found = problems(context)

    assert [p.path for p in found] == [
        f"environments.{environment}.{key}"
        for environment in ("dev", "staging")
        for key in EMULATOR_SWITCHES
    ]


def test_the_emulator_environment_may_switch_the_lambda_backed_protections_off() -> None:
    config = AppConfig.from_context(fixture_context())
    local = {e.name: e for e in config.environments}["local"]

    assert local.emulator
    assert not local.restrict_default_security_group
    assert not local.ensure_service_linked_role
    assert not local.empties_buckets_on_delete


def test_an_emulator_environment_declared_for_a_real_account_is_rejected() -> None:
    problem = only_problem(with_values("local", account="111111111111"))

    assert (problem.path, problem.value) == ("environments.local.account", "111111111111")
    assert "emulator's account 123456789012 only" in problem.allowed


def test_an_environment_that_stops_being_emulator_only_must_turn_its_protections_back_on() -> None:
    found = problems(with_values("local", emulator=False))

    assert [p.path for p in found] == [f"environments.local.{key}" for key in EMULATOR_SWITCHES]


def test_the_pipeline_never_deploys_an_emulator_only_environment_whatever_its_name() -> None:
    context = fixture_context()
    context["environments"]["sandbox"] = context["environments"].pop("local")
    context["pipeline"]["environments"] = ["sandbox", "dev", "prod"]

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("pipeline.environments[0]", "sandbox")
    assert "emulator-only (emulator: true)" in problem.allowed


def test_emulator_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem(with_values("local", emulator="yes"))

    assert (problem.path, problem.value) == ("environments.local.emulator", "yes")
    assert problem.allowed == "expected true or false"


def test_local_environment_may_not_request_a_certificate_the_emulator_cannot_make() -> None:
    context = with_values(
        "local",
        domainName="app.local.example.com",
        hostedZoneId="Z000000000000EXAMPLE9",
        hostedZoneName="local.example.com",
    )
    problem = only_problem(context)

    assert (problem.path, problem.value) == (
        "environments.local.domainName",
        "app.local.example.com",
    )
    assert "emulator has no ACM" in problem.allowed


@pytest.mark.parametrize("key", ["app.tgz", "releases/", "builds/app.tgz", "releases/app v2.tgz"])
def test_release_artifact_outside_the_releases_prefix_is_rejected(key: str) -> None:
    problem = only_problem(
        with_values("dev", releaseArtifact=key, releaseVersionId=VERSION, releaseSha256=SHA256)
    )

    assert (problem.path, problem.value) == ("environments.dev.releaseArtifact", key)
    assert "object key under releases/" in problem.allowed


SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
# As S3 prints them for a versioned bucket: opaque, not meant to be parsed.
VERSION = "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"


def test_release_artifact_under_the_releases_prefix_with_its_version_is_accepted() -> None:
    config = AppConfig.from_context(
        with_values(
            "dev",
            releaseArtifact="releases/app-1.2.3.tgz",
            releaseVersionId=VERSION,
            releaseSha256=SHA256,
        )
    )

    (dev,) = (e for e in config.environments if e.name == "dev")
    assert (dev.release_artifact, dev.release_version_id) == ("releases/app-1.2.3.tgz", VERSION)


def test_release_artifact_without_its_version_id_is_rejected_naming_both_keys() -> None:
    problem = only_problem(
        with_values("dev", releaseArtifact="releases/app-1.2.3.tgz", releaseSha256=SHA256)
    )

    assert (problem.path, problem.value) == ("environments.dev.releaseVersionId", None)
    assert problem.allowed.startswith("required with releaseArtifact ('releases/app-1.2.3.tgz')")
    assert "later upload to the same key" in problem.allowed


def test_release_version_id_without_a_release_artifact_is_rejected_naming_both_keys() -> None:
    problem = only_problem(with_values("dev", releaseVersionId=VERSION))

    assert (problem.path, problem.value) == ("environments.dev.releaseVersionId", VERSION)
    assert problem.allowed.startswith("releaseVersionId without releaseArtifact")


@pytest.mark.parametrize(
    "version_id",
    ["", "two words", "tab\there", "versi\u00f3n", "v" * 1025],
    ids=["empty", "space", "tab", "non-ascii", "over-1024"],
)
def test_release_version_id_that_s3_cannot_have_issued_is_rejected(version_id: str) -> None:
    problem = problem_at(
        with_values(
            "dev",
            releaseArtifact="releases/app.tgz",
            releaseVersionId=version_id,
            releaseSha256=SHA256,
        ),
        "environments.dev.releaseVersionId",
    )

    assert problem.value == version_id
    assert problem.allowed.startswith("expected the S3 version ID of releaseArtifact")


def test_release_version_id_of_1024_characters_is_accepted() -> None:
    config = AppConfig.from_context(
        with_values(
            "dev",
            releaseArtifact="releases/app.tgz",
            releaseVersionId="v" * 1024,
            releaseSha256=SHA256,
        )
    )

    (dev,) = (e for e in config.environments if e.name == "dev")
    assert dev.release_version_id == "v" * 1024


def test_release_artifact_without_its_sha256_is_rejected_naming_both_keys() -> None:
    problem = only_problem(
        with_values("dev", releaseArtifact="releases/app-1.2.3.tgz", releaseVersionId=VERSION)
    )

    assert (problem.path, problem.value) == ("environments.dev.releaseSha256", None)
    assert problem.allowed.startswith("required with releaseArtifact ('releases/app-1.2.3.tgz')")
    assert "SHA-256 matches" in problem.allowed


def test_release_sha256_without_a_release_artifact_is_rejected_naming_both_keys() -> None:
    problem = only_problem(with_values("dev", releaseSha256=SHA256))

    assert (problem.path, problem.value) == ("environments.dev.releaseSha256", SHA256)
    assert problem.allowed.startswith("releaseSha256 without releaseArtifact")


@pytest.mark.parametrize(
    "digest",
    [
        SHA256.upper(),  # sha256sum prints lower case; the boot script compares text
        SHA256[:-1],
        SHA256 + "0",
        "sha256:" + SHA256,
        "z" * 64,
    ],
)
def test_release_sha256_that_is_not_64_lower_case_hex_digits_is_rejected(digest: str) -> None:
    problem = problem_at(
        with_values(
            "dev",
            releaseArtifact="releases/app.tgz",
            releaseVersionId=VERSION,
            releaseSha256=digest,
        ),
        "environments.dev.releaseSha256",
    )

    assert problem.value == digest
    assert problem.allowed == "expected the release archive's SHA-256: 64 lower-case hex digits"


@pytest.mark.parametrize("header", ["X-Api-Key", "x api key", "", "x-api-key:"])
def test_waf_redacted_header_that_is_not_a_lower_case_header_name_is_rejected(header: str) -> None:
    problem = only_problem(with_values("dev", wafRedactedHeaders=[header]))

    assert (problem.path, problem.value) == ("environments.dev.wafRedactedHeaders[0]", header)
    assert problem.allowed.startswith("expected lower-case HTTP header names such as x-api-key")


def test_waf_redacted_headers_that_are_not_a_list_are_rejected() -> None:
    problem = only_problem(with_values("dev", wafRedactedHeaders="x-api-key"))

    assert problem.path == "environments.dev.wafRedactedHeaders"


@pytest.mark.parametrize("email", ["oncall", "oncall@example", "on call@example.com"])
def test_alarm_email_that_is_not_an_address_is_rejected(email: str) -> None:
    problem = only_problem(with_values("prod", alarmEmail=email))

    assert (problem.path, problem.value) == ("environments.prod.alarmEmail", email)
    assert problem.allowed == "expected an e-mail address"


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        (
            "alarmResponseTimeP99Seconds",
            0,
            "expected seconds above 0, at most 60 (the load balancer's timeout)",
        ),
        (
            "alarmResponseTimeP99Seconds",
            61,
            "expected seconds above 0, at most 60 (the load balancer's timeout)",
        ),
        ("alarmServerErrorRatePercent", 100, "expected a percentage above 0 and below 100"),
        ("alarmServerErrorRatePercent", 0, "expected a percentage above 0 and below 100"),
        ("alarmMinimumRequests", 0, "expected requests per minute, 1 to 1000000"),
        ("alarmElbErrorsPerMinute", 0, "expected responses per minute, 1 to 1000000"),
        ("alarmResponseTimeP99Seconds", "2s", "expected a number"),
        ("alarmMinimumRequests", 1.5, "expected an integer"),
    ],
)
def test_alarm_threshold_out_of_range_is_rejected_naming_the_key(
    key: str, value: object, allowed: str
) -> None:
    problem = only_problem(with_values("staging", **{key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.staging.{key}",
        value,
        allowed,
    )


def test_alarm_thresholds_take_their_defaults_and_accept_whole_seconds() -> None:
    (staging,) = (
        e
        for e in AppConfig.from_context(
            with_values("staging", alarmResponseTimeP99Seconds=3)
        ).environments
        if e.name == "staging"
    )

    assert staging.alarm_response_time_p99_seconds == 3
    assert (
        staging.alarm_server_error_rate_percent,
        staging.alarm_minimum_requests,
        staging.alarm_elb_errors_per_minute,
        staging.notification_email,
    ) == (5.0, 50, 10, None)


@pytest.mark.parametrize("email", ["ops", "ops@example"])
def test_notification_email_that_is_not_an_address_is_rejected(email: str) -> None:
    problem = only_problem(with_values("prod", notificationEmail=email))

    assert (problem.path, problem.allowed) == (
        "environments.prod.notificationEmail",
        "expected an e-mail address",
    )


def test_misspelt_environment_key_is_rejected_with_a_did_you_mean_hint() -> None:
    problem = only_problem(with_values("dev", vpcCidrs="10.11.0.0/16"))

    assert (problem.path, problem.value) == ("environments.dev.vpcCidrs", "10.11.0.0/16")
    assert "unknown key; did you mean 'vpcCidr'?" in problem.allowed


def test_misspelt_top_level_key_is_rejected_with_a_did_you_mean_hint() -> None:
    context = fixture_context()
    context["projct"] = "shop"

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("projct", "shop")
    assert "unknown key; did you mean 'project'?" in problem.allowed


def test_misspelt_pipeline_key_is_rejected_with_a_did_you_mean_hint() -> None:
    context = fixture_context()
    context["pipeline"]["manualAproval"] = ["prod"]

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("pipeline.manualAproval", ["prod"])
    assert "unknown key; did you mean 'manualApproval'?" in problem.allowed


def test_unknown_key_without_a_close_match_lists_the_allowed_keys() -> None:
    context = fixture_context()
    context["zzz"] = 1

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("zzz", 1)
    assert "costCenter, env, environments, lookups, owner, pipeline, project" in problem.allowed


@pytest.mark.parametrize(
    "key",
    [
        "@aws-cdk/core:someFutureFeatureFlag",
        "aws:cdk:enable-path-metadata",
        "availability-zones:account=111111111111:region=us-east-1",
    ],
)
def test_context_keys_that_belong_to_cdk_are_not_reported_as_unknown(key: str) -> None:
    context = fixture_context()
    context[key] = True

    AppConfig.from_context(context)


def test_acknowledged_notices_from_cdk_context_json_are_not_reported_as_unknown() -> None:
    context = fixture_context()
    context["acknowledged-issue-numbers"] = [34892]

    AppConfig.from_context(context)


def test_cdk_style_keys_inside_an_environment_are_reported_as_unknown() -> None:
    problem = only_problem(with_values("dev", **{"@aws-cdk/core:flag": True}))

    assert problem.path == "environments.dev.@aws-cdk/core:flag"
    assert problem.allowed.startswith("unknown key")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("natGateways", "1", "expected an integer"),
        ("minCapacity", True, "expected an integer"),
        ("interfaceEndpoints", "false", "expected true or false"),
        ("ensureServiceLinkedRole", 0, "expected true or false"),
        ("availabilityZones", "us-east-1a", "expected a list"),
        ("account", 111111111111, "expected a string"),
        ("account", None, "expected a string"),
    ],
)
def test_value_of_the_wrong_type_is_rejected(key: str, value: object, expected: str) -> None:
    problem = only_problem(with_values("dev", **{key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.dev.{key}",
        value,
        expected,
    )


def test_availability_zone_that_is_not_a_string_is_rejected() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", 1]))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones[1]", 1)
    assert "expected a string" in problem.allowed


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("project", 5, "expected a string"),
        ("environments", ["dev"], "expected an object"),
        ("environments", {}, "expected at least one environment"),
    ],
)
def test_top_level_value_of_the_wrong_shape_is_rejected(
    key: str, value: object, expected: str
) -> None:
    context = fixture_context()
    context[key] = value

    problem = only_problem(context)

    assert (problem.path, problem.value) == (key, value)
    assert problem.allowed.startswith(expected)


def test_environment_that_is_not_an_object_is_rejected() -> None:
    context = fixture_context()
    context["environments"]["dev"] = "t3.small"

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.dev", "t3.small")
    assert "expected an object" in problem.allowed


@pytest.mark.parametrize(
    "key",
    [
        "account",
        "region",
        "availabilityZones",
        "vpcCidr",
        "natGateways",
        "instanceType",
        "amiId",
        "minCapacity",
        "maxCapacity",
    ],
)
def test_missing_required_environment_key_is_named(key: str) -> None:
    problem = only_problem(without_key("prod", key))

    assert (problem.path, problem.value) == (f"environments.prod.{key}", None)
    assert problem.allowed.startswith("required key is missing")


@pytest.mark.parametrize(
    "key",
    [
        "project",
        "owner",
        "costCenter",
        "environments",
    ],
)
def test_missing_required_top_level_key_is_named(key: str) -> None:
    context = fixture_context()
    del context[key]

    problem = only_problem(context)

    assert (problem.path, problem.value) == (key, None)
    assert problem.allowed.startswith("required key is missing")


@pytest.mark.parametrize("project", ["WebApp", "web_app", "web--app", "-webapp", "2web"])
def test_project_that_is_not_a_lower_case_word_is_rejected(project: str) -> None:
    context = fixture_context()
    context["project"] = project

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("project", project)
    assert "lower-case letters and digits" in problem.allowed


def test_blank_owner_is_rejected() -> None:
    context = fixture_context()
    context["owner"] = "  "

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("owner", "  ")
    assert problem.allowed == "expected a non-empty string"


def test_environment_name_that_is_not_a_lower_case_word_is_rejected() -> None:
    context = fixture_context()
    context["environments"]["Prod"] = context["environments"].pop("prod")
    del context["pipeline"]  # it deploys `prod`, which this rename removes

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.Prod", "Prod")
    assert "lower-case words" in problem.allowed


def test_environment_name_too_long_for_the_load_balancer_name_is_rejected() -> None:
    context = fixture_context()
    context["environments"]["development-eu"] = context["environments"].pop("dev")
    del context["pipeline"]  # it deploys `dev`, which this rename removes

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.development-eu", "development-eu")
    assert "load balancer name 'development-eu-webapp-compute-alb'" in problem.allowed
    assert "has 33 characters; AWS allows at most 32" in problem.allowed


def test_project_too_long_for_the_load_balancer_name_is_reported_for_every_environment() -> None:
    context = fixture_context()
    context["project"] = "customer-portal-web"

    found = problems(context)

    assert [p.path for p in found] == [f"environments.{name}" for name in COMMITTED_ENVIRONMENTS]
    assert all("AWS allows at most 32" in p.allowed for p in found)
    assert all("shorten the environment name or 'project'" in p.allowed for p in found)


def test_environment_named_internal_is_rejected_as_load_balancer_names_cannot_start_so() -> None:
    context = fixture_context()
    context["environments"]["internal"] = context["environments"].pop("local")

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.internal", "internal")
    assert "load balancer name 'internal-webapp-compute-alb'" in problem.allowed
    assert "'internal-'" in problem.allowed


def broken(*changes: Callable[[Context], object]) -> Context:
    """cdk.json's context after `changes`, each a mutation of it."""
    context = fixture_context()
    for change in changes:
        change(context)
    return context


def set_at(path: str, value: object) -> Callable[[Context], object]:
    """A change that sets the key at a dotted path of the context."""
    *parents, key = path.split(".")

    def change(context: Context) -> None:
        target = context
        for parent in parents:
            target = target[parent]
        target[key] = value

    return change


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(
            broken(
                set_at("projct", "shop"),
                set_at("environments.dev.appPort", 22),
                set_at("environments.staging.minCapacity", 0),
                set_at("environments.prod.vpcCidr", "8.8.0.0/16"),
            ),
            [
                "environments.dev.appPort",
                "environments.staging.minCapacity",
                "environments.prod.vpcCidr",
                "projct",
            ],
            id="malformed values of several environments and the top level",
        ),
        pytest.param(
            broken(
                set_at("environments.dev.dbPort", 8080),
                set_at("environments.dev.minCapacity", 3),
                set_at("environments.dev.maxCapacity", 3),
                set_at("env", "dev,qa"),
            ),
            ["environments.dev.minCapacity", "environments.dev.dbPort", "env"],
            id="broken rules between values",
        ),
        pytest.param(
            broken(
                set_at("environments.dev.natGateways", "1"),
                set_at("environments.staging.minCapacity", 3),
                set_at("environments.staging.maxCapacity", 3),
                set_at("env", "dev,qa"),
                set_at("pipeline.manualApproval", ["qa"]),
            ),
            [
                "environments.dev.natGateways",
                "environments.staging.minCapacity",
                "env",
                "pipeline.manualApproval[0]",
            ],
            id="a malformed value and rules between other values",
        ),
        pytest.param(
            broken(
                set_at("pipeline.branch", ""),
                set_at("pipeline.environments", ["local", "qa", "prod"]),
            ),
            ["pipeline.branch", "pipeline.environments[0]", "pipeline.environments[1]"],
            id="a malformed pipeline key and the pipeline's references",
        ),
        pytest.param(
            broken(
                lambda c: c["environments"].update(Dev=c["environments"].pop("dev")),
                set_at("environments.Dev.account", "x"),
                lambda c: c.pop("pipeline"),
            ),
            ["environments.Dev.account", "environments.Dev"],
            id="a malformed environment and its name",
        ),
        pytest.param(
            broken(
                set_at("environments.dev.natGateways", 5),
                set_at("environments.dev.appPort", "8080"),
            ),
            ["environments.dev.appPort"],
            # natGateways 5 exceeds dev's two AZs, but a rule over a half-read environment would
            # only echo its first problem: its own rules wait for its values.
            id="an environment's own rules wait for its values",
        ),
    ],
)
def test_one_run_reports_every_problem_once(context: Context, expected: list[str]) -> None:
    assert [p.path for p in problems(context)] == expected


def test_parsed_configuration_is_immutable_and_hashable() -> None:
    config = AppConfig.from_context(fixture_context())

    with pytest.raises(ValidationError, match="frozen"):
        config.environments[0].min_capacity = 5
    assert len({config, *config.environments}) == 1 + len(COMMITTED_ENVIRONMENTS)


def test_report_shows_each_problem_on_its_own_line_with_path_value_and_what_is_allowed() -> None:
    context = with_values("prod", vpcCidr="8.8.0.0/16", alarmEmail="oncall")

    with pytest.raises(ConfigError) as caught:
        AppConfig.from_context(context)

    lines = caught.value.report().splitlines()
    assert lines[0] == "Invalid configuration in cdk.json context (2 problem(s)):"
    assert lines[1].startswith('  - environments.prod.vpcCidr = "8.8.0.0/16": expected a private')
    assert lines[2] == '  - environments.prod.alarmEmail = "oncall": expected an e-mail address'


@pytest.mark.parametrize(
    ("produce", "expected"),
    [
        (lambda n: n.stack_name("network"), "prod-webapp-network"),
        (lambda n: n.load_balancer_name(), "prod-webapp-compute-alb"),
        (lambda n: n.alarm_topic_name(), "prod-webapp-compute-alarms"),
        (lambda n: n.kms_alias("security", "key"), "alias/prod-webapp-security-key"),
        (lambda n: n.log_group_name("compute", "app"), "/prod/webapp/compute/app"),
    ],
    ids=["stack", "load-balancer", "alarm-topic", "kms-alias", "log-group"],
)
def test_names_follow_the_env_project_component_resource_convention(
    produce: Callable[[Naming], str], expected: str
) -> None:
    assert produce(Naming(environment="prod", project="webapp")) == expected


def test_names_are_lower_cased() -> None:
    assert Naming(environment="Prod", project="WebApp").stack_name("network") == (
        "prod-webapp-network"
    )


def test_load_balancer_name_of_exactly_32_characters_is_accepted() -> None:
    name = Naming(environment="dev", project="p" * 16).load_balancer_name()

    assert len(name) == 32


def test_load_balancer_name_of_33_characters_is_rejected() -> None:
    naming = Naming(environment="dev", project="p" * 17)

    with pytest.raises(InvalidNameError, match="has 33 characters; AWS allows at most 32"):
        naming.load_balancer_name()


# The AWS limits themselves, written out so a typo in NameKind cannot go unnoticed.
NAME_LIMITS = [
    (NameKind.STACK, 128, "a"),
    (NameKind.LOAD_BALANCER, 32, "a"),
    (NameKind.LOG_GROUP, 512, "/a"),
    (NameKind.KMS_ALIAS, 256, "alias/a"),
    (NameKind.SNS_TOPIC, 256, "a"),
    (NameKind.TAG_VALUE, 256, "a"),
]


@pytest.mark.parametrize(("kind", "limit", "prefix"), NAME_LIMITS)
def test_name_at_the_aws_length_limit_is_accepted(kind: NameKind, limit: int, prefix: str) -> None:
    name = prefix + "a" * (limit - len(prefix))

    assert kind.check(name) == name


@pytest.mark.parametrize(("kind", "limit", "prefix"), NAME_LIMITS)
def test_name_over_the_aws_length_limit_is_rejected(
    kind: NameKind, limit: int, prefix: str
) -> None:
    name = prefix + "a" * (limit + 1 - len(prefix))

    with pytest.raises(InvalidNameError, match=f"AWS allows at most {limit}$"):
        kind.check(name)


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (NameKind.STACK, "1-webapp-network"),
        (NameKind.STACK, "dev_webapp_network"),
        (NameKind.LOAD_BALANCER, "internal-webapp-compute-alb"),
        (NameKind.LOAD_BALANCER, "dev-webapp-alb-"),
        (NameKind.KMS_ALIAS, "alias/aws/key"),
        (NameKind.KMS_ALIAS, "dev-webapp-security-key"),
        (NameKind.SNS_TOPIC, "dev.webapp.alarms"),
    ],
)
def test_name_with_characters_the_service_rejects_is_rejected(kind: NameKind, name: str) -> None:
    with pytest.raises(InvalidNameError, match="may only contain"):
        kind.check(name)


def test_committed_environments_have_no_naming_problems() -> None:
    config = AppConfig.from_context(fixture_context())

    assert {e.name: config.naming(e).problems() for e in config.environments} == {
        name: [] for name in COMMITTED_ENVIRONMENTS
    }


@pytest.mark.parametrize("word", ["webapp", "web-app", "app2", "a"])
def test_lower_case_words_joined_by_hyphens_are_valid_env_and_project_names(word: str) -> None:
    assert is_lower_word(word)


@pytest.mark.parametrize("word", ["", "WebApp", "web_app", "web--app", "-web", "web-", "2web"])
def test_other_strings_are_not_valid_env_and_project_names(word: str) -> None:
    assert not is_lower_word(word)


def test_production_may_not_empty_its_buckets_on_delete() -> None:
    problem = only_problem(with_values("prod", emptyBucketsOnDelete=True))

    assert (problem.path, problem.value) == ("environments.prod.emptyBucketsOnDelete", True)
    assert "production keeps its buckets" in problem.allowed


def test_buckets_are_emptied_on_delete_outside_production_unless_turned_off() -> None:
    config = AppConfig.from_context(with_values("local", emptyBucketsOnDelete=False))
    by_name = {e.name: e for e in config.environments}

    assert by_name["dev"].empties_buckets_on_delete
    assert not by_name["prod"].empties_buckets_on_delete
    assert not by_name["local"].empties_buckets_on_delete


# What a new team copies between environments (issue: adopt it in an afternoon). Each mistake passes
# pydantic's checks of single values and fails only at deploy, so config must catch it.


def test_a_certificate_of_another_account_or_region_is_named_with_the_one_it_must_be() -> None:
    # Staging's certificate copied into a qa environment in another region and account.
    copied = fixture_context()["environments"]["staging"]["certificateArn"]
    context = with_values("dev", certificateArn=copied)

    problem = only_problem(context)

    assert problem.path == "environments.dev.certificateArn"
    assert problem.value == copied
    assert "account 222222222222 in us-east-1" in problem.allowed
    assert "(111111111111, us-east-1)" in problem.allowed


def test_a_zone_letter_the_region_does_not_have_is_named_with_the_zones_it_has() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", "us-east-1g"]))

    assert problem.path == "environments.dev.availabilityZones[1]"
    assert problem.value == "us-east-1g"
    assert "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f" in (
        problem.allowed
    )


def test_a_zone_of_another_region_is_rejected() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", "us-west-2a"]))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones[1]", "us-west-2a")


def test_a_region_without_known_zones_asks_for_its_row_in_the_table() -> None:
    context = with_values(
        "dev", region="xx-north-9", availabilityZones=["xx-north-9a", "xx-north-9b"]
    )

    found = problems(context)

    assert found[0].path == "environments.dev.region"
    assert "AVAILABILITY_ZONE_LETTERS" in found[0].allowed


@pytest.mark.parametrize("instance_type", ["m7g.large", "t4g.small", "c7gn.xlarge", "a1.large"])
def test_a_graviton_type_with_an_x86_ami_is_rejected(instance_type: str) -> None:
    problem = only_problem(with_values("dev", instanceType=instance_type))

    assert (problem.path, problem.value) == ("environments.dev.instanceType", instance_type)
    assert "arm64 instance type; the AMI is x86_64 (architecture)" in problem.allowed


@pytest.mark.parametrize("instance_type", ["m7i.large", "g5.xlarge", "g4dn.xlarge", "c6a.large"])
def test_an_x86_type_with_an_arm64_ami_is_rejected(instance_type: str) -> None:
    problem = only_problem(with_values("dev", instanceType=instance_type, architecture="arm64"))

    assert "x86_64 instance type; the AMI is arm64" in problem.allowed


def test_a_graviton_type_with_an_arm64_ami_is_accepted() -> None:
    AppConfig.from_context(with_values("dev", instanceType="m7g.large", architecture="arm64"))


def test_an_unknown_architecture_is_named_with_the_two_allowed() -> None:
    problem = only_problem(with_values("dev", architecture="aarch64"))

    assert problem.path == "environments.dev.architecture"
    assert "x86_64" in problem.allowed
    assert "arm64" in problem.allowed


def test_one_ami_id_in_two_regions_is_rejected_because_ami_ids_are_regional() -> None:
    context = with_values(
        "dev",
        region="us-west-2",
        availabilityZones=["us-west-2a", "us-west-2b"],
    )

    found = problems(context)

    assert {p.path for p in found} >= {"environments.staging.amiId"}
    problem = next(p for p in found if p.path == "environments.staging.amiId")
    assert "also the amiId of environments.dev in us-west-2" in problem.allowed
    assert "use the ID of the same image in us-east-1" in problem.allowed


def test_the_report_writes_values_as_cdk_json_does_null_true_and_double_quotes() -> None:
    report = ConfigError(
        [Problem("a", None, "x"), Problem("b", True, "y"), Problem("c", "dev", "z")]
    ).report()

    assert "a = null: x" in report
    assert "b = true: y" in report
    assert 'c = "dev": z' in report


def test_zonal_autoshift_is_on_in_prod_and_off_elsewhere_by_default() -> None:
    config = AppConfig.from_context(fixture_context())

    assert {e.name: e.autoshifts for e in config.environments} == {
        "dev": False,
        "staging": False,
        "prod": True,
        "local": False,
    }


def test_zonal_autoshift_in_the_emulator_is_rejected_because_it_has_no_arc_types() -> None:
    problem = problem_at(
        with_values("local", zonalAutoshift=True), "environments.local.zonalAutoshift"
    )

    assert problem.value is True
    assert "ARC" in problem.allowed


def test_autoshift_with_fewer_instances_than_azs_is_rejected_naming_the_floor() -> None:
    problem = only_problem(with_values("prod", minCapacity=2))

    assert (problem.path, problem.value) == ("environments.prod.minCapacity", 2)
    assert "at least one instance per AZ (3)" in problem.allowed


@pytest.mark.parametrize("min_capacity", [4, 5, 7])
def test_autoshift_with_a_floor_the_other_azs_cannot_carry_is_rejected(min_capacity: int) -> None:
    # 4 in 3 AZs is 2+1+1: losing the AZ with 2 leaves half the fleet at 120% CPU.
    problem = only_problem(with_values("prod", minCapacity=min_capacity, maxCapacity=12))

    assert problem.path == "environments.prod.minCapacity"
    assert "use a multiple of the AZ count" in problem.allowed


@pytest.mark.parametrize("min_capacity", [3, 6, 9])
def test_autoshift_with_a_floor_spread_evenly_over_three_azs_is_accepted(min_capacity: int) -> None:
    AppConfig.from_context(with_values("prod", minCapacity=min_capacity, maxCapacity=12))


def test_autoshift_over_two_azs_is_rejected_as_one_az_cannot_carry_the_other() -> None:
    context = with_values("prod", availabilityZones=["us-east-1a", "us-east-1b"], natGateways=2)

    problem = only_problem(context)

    assert problem.path == "environments.prod.minCapacity"
    assert "with 2 AZs" in problem.allowed


def test_autoshift_without_a_nat_gateway_per_az_is_rejected() -> None:
    problem = only_problem(with_values("prod", natGateways=1))

    assert (problem.path, problem.value) == ("environments.prod.natGateways", 1)
    assert "one per AZ (3)" in problem.allowed


def test_without_autoshift_an_environment_may_be_unable_to_lose_an_az() -> None:
    # dev (1 instance, 2 AZs, 1 NAT) gets a synth warning instead (stacks/compute_stack.py).
    AppConfig.from_context(with_values("prod", zonalAutoshift=False, minCapacity=2, natGateways=1))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("practiceRunBlockedWindows", ["Fri:16:00-Mon:8:00"]),
        ("practiceRunBlockedWindows", ["Friday:16:00-Mon:08:00"]),
        ("practiceRunBlockedWindows", ["Fri:24:00-Mon:08:00"]),
        ("practiceRunBlockedDates", ["2026-13-01"]),
        ("practiceRunBlockedDates", ["24.12.2026"]),
    ],
)
def test_practice_run_windows_and_dates_outside_arc_formats_are_rejected(
    key: str, value: list[str]
) -> None:
    problem = only_problem(with_values("prod", **{key: value}))

    assert problem.path == f"environments.prod.{key}[0]"
    assert problem.value == value[0]


def test_more_than_fifteen_blocked_dates_are_rejected() -> None:
    dates = [f"2026-12-{day:02d}" for day in range(1, 17)]

    problem = only_problem(with_values("prod", practiceRunBlockedDates=dates))

    assert problem.path == "environments.prod.practiceRunBlockedDates"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("zonalServerErrorRatePercent", 0),
        ("zonalServerErrorRatePercent", 100),
        ("zonalResponseTimeP99Seconds", 61),
        ("zonalMinimumRequests", 0),
        ("zonalErrorOutlierPoints", 0),
        ("zonalLatencyOutlierRatio", 1),
    ],
)
def test_zonal_thresholds_outside_their_ranges_are_rejected(key: str, value: float) -> None:
    problem = only_problem(with_values("prod", **{key: value}))

    assert (problem.path, problem.value) == (f"environments.prod.{key}", value)


def with_rollout(environment: str, **rollout: object) -> Context:
    context = fixture_context()
    context["environments"][environment]["rollout"] = rollout
    return context


def test_rollout_left_out_keeps_the_whole_capacity_and_bakes_past_the_alarm_window() -> None:
    context = fixture_context()
    del context["environments"]["staging"]["rollout"]
    (staging,) = (e for e in AppConfig.from_context(context).environments if e.name == "staging")

    assert staging.rollout == RolloutConfig.model_validate({})
    assert (
        staging.rollout.min_healthy_percentage,
        staging.rollout.max_healthy_percentage,
        staging.rollout.bake_time_minutes,
        staging.rollout.checkpoints,
        staging.rollout.checkpoint_delay_minutes,
        staging.rollout.alarm_gate,
    ) == (100, None, 10, (), 10, True)


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("minHealthyPercentage", 49, "expected a percentage from 50 to 100 (prod: 100)"),
        ("minHealthyPercentage", 101, "expected a percentage from 50 to 100 (prod: 100)"),
        (
            "maxHealthyPercentage",
            201,
            "expected a percentage from 100 to 200, at most 100 above minHealthyPercentage",
        ),
        (
            "bakeTimeMinutes",
            4,
            "expected minutes, 5 (the gating alarms' evaluation window) to 2880",
        ),
        (
            "checkpointDelayMinutes",
            2881,
            "expected minutes, 5 (the gating alarms' evaluation window) to 2880",
        ),
        ("bakeTimeMinutes", "15m", "expected an integer"),
        ("alarmGate", "false", "expected true or false"),
        ("checkpoints", [50, 25, 100], "expected percentages in ascending order, each once"),
        ("checkpoints", [50, 50, 100], "expected percentages in ascending order, each once"),
        (
            "checkpoints",
            [25, 50],
            "the last checkpoint must be 100, or the refresh stops short of the fleet",
        ),
    ],
)
def test_rollout_value_out_of_range_is_rejected_naming_the_key(
    key: str, value: object, allowed: str
) -> None:
    problem = only_problem(with_rollout("staging", **{key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.staging.rollout.{key}",
        value,
        allowed,
    )


def test_unknown_rollout_key_is_rejected_suggesting_the_one_meant() -> None:
    problem = only_problem(with_rollout("dev", bakeTime=15))

    assert problem.path == "environments.dev.rollout.bakeTime"
    assert problem.allowed.startswith("unknown key; did you mean 'bakeTimeMinutes'?")


def test_production_release_may_not_take_capacity_out_of_service() -> None:
    problem = only_problem(with_rollout("prod", minHealthyPercentage=90))

    assert (problem.path, problem.value) == ("environments.prod.rollout.minHealthyPercentage", 90)
    assert problem.allowed.endswith("while a release replaces instances: 100")


def test_other_environments_may_replace_part_of_their_capacity_at_once() -> None:
    config = AppConfig.from_context(with_rollout("staging", minHealthyPercentage=50))

    (staging,) = (e for e in config.environments if e.name == "staging")
    assert staging.rollout.min_healthy_percentage == 50


def test_maximum_more_than_100_above_the_minimum_is_rejected_as_aws_does() -> None:
    problem = only_problem(
        with_rollout("staging", minHealthyPercentage=60, maxHealthyPercentage=170)
    )

    assert (problem.path, problem.value) == (
        "environments.staging.rollout.maxHealthyPercentage",
        170,
    )
    assert "at most 100 above minHealthyPercentage (60)" in problem.allowed


def test_maximum_without_room_for_one_instance_at_min_capacity_names_the_smallest_allowed() -> None:
    # prod: minCapacity 3, so 133% of it is 3.99 instances: no replacement could launch.
    problem = only_problem(with_rollout("prod", maxHealthyPercentage=133))

    assert (problem.path, problem.value) == ("environments.prod.rollout.maxHealthyPercentage", 133)
    assert "leaves no room for one instance at minCapacity (3)" in problem.allowed
    assert "at least 134 (or leave it out)" in problem.allowed


def test_rollout_problems_of_several_environments_are_reported_at_once() -> None:
    context = with_rollout("prod", minHealthyPercentage=90)
    context["environments"]["dev"]["rollout"] = {"bakeTimeMinutes": 1}

    assert sorted(p.path for p in problems(context)) == [
        "environments.dev.rollout.bakeTimeMinutes",
        "environments.prod.rollout.minHealthyPercentage",
    ]


@pytest.mark.parametrize(
    "window", ["Fri:16:00-Mon:08:00", "Sat:10:00-Sat:09:00", "Sun:12:00-Sun:12:00"]
)
def test_a_practice_run_window_across_days_or_ending_before_it_starts_is_rejected(
    window: str,
) -> None:
    # ARC: "The blockedWindows have to start and end on the same day."
    problem = only_problem(with_values("prod", practiceRunBlockedWindows=[window]))

    assert problem.path == "environments.prod.practiceRunBlockedWindows[0]"
    assert problem.value == window
    assert "within one day" in problem.allowed
