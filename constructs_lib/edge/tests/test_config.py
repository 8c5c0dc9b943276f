"""The `edge` section: HTTPS (a certificate, or a domain whose certificate the app requests), the
domain and its hosted zone, and the headers WAF keeps out of its logs."""

from __future__ import annotations

import pytest

from constructs_lib.core.tests.literal_context import (
    OMITTED,
    certificate_arn,
    environment,
    only_problem,
    parsed,
    problem_at,
)

PROD_CERTIFICATE = certificate_arn("333333333333")
DEV_CERTIFICATE = certificate_arn("111111111111")


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:acm:us-east-1:333333333333:certificate/not-a-uuid",
        "arn:aws:iam::333333333333:server-certificate/web",
        "00000000-0000-4000-8000-000000000003",
    ],
)
def test_certificate_arn_that_is_not_an_acm_certificate_is_rejected(arn: str) -> None:
    problem = only_problem(environment("prod", edge={"certificateArn": arn}))

    assert (problem.path, problem.value) == ("environments.prod.edge.certificateArn", arn)
    assert problem.allowed == "expected an ACM certificate ARN"


@pytest.mark.parametrize(
    "arn",
    [certificate_arn("222222222222"), certificate_arn("111111111111", "us-west-2")],
    ids=["another account", "another region"],
)
def test_a_certificate_of_another_account_or_region_is_named_with_the_one_it_must_be(
    arn: str,
) -> None:
    # What a new team copies between environments: it passes every check of the ARN alone and
    # would fail only at deploy.
    problem = only_problem(environment("dev", edge={"certificateArn": arn}))

    assert (problem.path, problem.value) == ("environments.dev.edge.certificateArn", arn)
    _, _, _, region, account, _ = arn.split(":", 5)
    assert f"account {account} in {region}" in problem.allowed
    assert "(111111111111, us-east-1)" in problem.allowed


def test_prod_without_a_certificate_or_a_domain_is_rejected_because_it_serves_https_only() -> None:
    problem = only_problem(environment("prod", edge={"domain": OMITTED}))

    assert (problem.path, problem.value) == ("environments.prod.edge.certificateArn", None)
    assert "production serves HTTPS only" in problem.allowed
    assert "set domain" in problem.allowed


def test_prod_that_leaves_the_edge_section_out_is_rejected_because_it_serves_https_only() -> None:
    problem = only_problem(environment("prod", edge=OMITTED))

    assert (problem.path, problem.value) == ("environments.prod.edge.certificateArn", None)


def test_prod_may_serve_https_with_its_own_certificate_on_the_load_balancer_name() -> None:
    context = environment("prod", edge={"domain": OMITTED, "certificateArn": PROD_CERTIFICATE})

    assert parsed(context).edge.serves_https


def test_environments_other_than_prod_may_serve_plain_http() -> None:
    dev = parsed(environment("dev"))

    assert (dev.edge.certificate_arn, dev.edge.domain, dev.edge.serves_https) == (None, None, False)


def test_a_domain_without_certificate_arn_is_accepted_the_app_requests_the_certificate() -> None:
    prod = parsed(environment("prod"))

    assert prod.edge.domain is not None
    assert (prod.edge.domain.name, prod.edge.certificate_arn, prod.edge.serves_https) == (
        "app.example.com",
        None,
        True,
    )


def domain(name: str, zone: str = "example.com", zone_id: str = "Z0123") -> dict[str, str]:
    return {"name": name, "hostedZoneId": zone_id, "hostedZoneName": zone}


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
    context = environment("prod", edge={"domain": domain(name)})

    problem = problem_at(context, "environments.prod.edge.domain.name")

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
    # Names over 64 characters cannot be requested: the environment brings its own certificate.
    edge = {"domain": domain(name, zone=name), "certificateArn": DEV_CERTIFICATE}

    dev = parsed(environment("dev", edge=edge))

    assert dev.edge.domain is not None
    assert dev.edge.domain.name == name


def test_hosted_zone_name_that_is_not_a_dns_name_is_rejected() -> None:
    context = environment("prod", edge={"domain": domain("app.example.com", zone="Example.com")})

    problem = only_problem(context)

    assert (problem.path, problem.value) == (
        "environments.prod.edge.domain.hostedZoneName",
        "Example.com",
    )
    assert "lower-case DNS name" in problem.allowed


@pytest.mark.parametrize("zone_id", ["z000000000000EXAMPLE3", "/hostedzone/Z0123", "Z" * 33, ""])
def test_hosted_zone_id_that_is_not_a_route53_zone_id_is_rejected(zone_id: str) -> None:
    context = environment("prod", edge={"domain": domain("app.example.com", zone_id=zone_id)})

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.prod.edge.domain.hostedZoneId", zone_id)
    assert (
        problem.allowed == "expected a Route 53 public hosted zone ID such as Z0123456789ABCDEFGHIJ"
    )


def test_domain_outside_its_hosted_zone_is_rejected() -> None:
    problem = only_problem(environment("prod", edge={"domain": domain("app.example.org")}))

    assert (problem.path, problem.value) == (
        "environments.prod.edge.domain.name",
        "app.example.org",
    )
    assert problem.allowed.startswith("not inside hostedZoneName (example.com)")


def test_a_name_that_only_ends_like_the_zone_is_not_inside_it() -> None:
    problem = only_problem(environment("prod", edge={"domain": domain("app.notexample.com")}))

    assert problem.path == "environments.prod.edge.domain.name"


def test_the_zone_apex_itself_may_be_the_domain() -> None:
    prod = parsed(environment("prod", edge={"domain": domain("example.com")}))

    assert prod.edge.domain is not None
    assert prod.edge.domain.name == prod.edge.domain.hosted_zone_name


@pytest.mark.parametrize("key", ["name", "hostedZoneId", "hostedZoneName"])
def test_domain_without_its_name_or_hosted_zone_is_reported_as_the_missing_key(key: str) -> None:
    # The name and its zone are one type: a domain without its zone cannot be written.
    incomplete = {**domain("app.example.com"), key: OMITTED}

    problem = only_problem(environment("prod", edge={"domain": incomplete}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.prod.edge.domain.{key}",
        None,
        "required key is missing",
    )


@pytest.mark.parametrize("key", ["hostedZoneId", "hostedZoneName"])
def test_hosted_zone_outside_the_domain_is_an_unknown_key_of_the_edge(key: str) -> None:
    value = domain("app.example.com")[key]

    problem = only_problem(environment("dev", edge={key: value}))

    assert (problem.path, problem.value) == (f"environments.dev.edge.{key}", value)
    assert problem.allowed.startswith("unknown key")
    assert "(allowed: certificateArn, domain, wafRedactedHeaders)" in problem.allowed


def test_domain_longer_than_acm_allows_is_rejected_when_the_app_requests_the_certificate() -> None:
    name = f"{'a' * 53}.example.com"  # 65 characters

    problem = only_problem(environment("prod", edge={"domain": domain(name)}))

    assert (problem.path, problem.value) == ("environments.prod.edge.domain.name", name)
    assert problem.allowed.startswith("at most 64 characters")


def test_a_long_domain_is_accepted_with_a_certificate_brought_along() -> None:
    name = f"{'a' * 53}.dev.example.com"
    edge = {"domain": domain(name, zone="dev.example.com"), "certificateArn": DEV_CERTIFICATE}

    dev = parsed(environment("dev", edge=edge))

    assert dev.edge.domain is not None
    assert dev.edge.domain.name == name


def test_local_environment_may_not_request_a_certificate_the_emulator_cannot_make() -> None:
    context = environment("local", edge={"domain": domain("app.local.example.com")})

    problem = only_problem(context)

    assert (problem.path, problem.value) == (
        "environments.local.edge.domain.name",
        "app.local.example.com",
    )
    assert "emulator has no ACM" in problem.allowed


@pytest.mark.parametrize("header", ["X-Api-Key", "x api key", "", "x-api-key:"])
def test_waf_redacted_header_that_is_not_a_lower_case_header_name_is_rejected(header: str) -> None:
    problem = only_problem(environment("dev", edge={"wafRedactedHeaders": [header]}))

    assert (problem.path, problem.value) == ("environments.dev.edge.wafRedactedHeaders[0]", header)
    assert problem.allowed.startswith("expected lower-case HTTP header names such as x-api-key")


def test_waf_redacted_headers_that_are_not_a_list_are_rejected() -> None:
    problem = only_problem(environment("dev", edge={"wafRedactedHeaders": "x-api-key"}))

    assert (problem.path, problem.value, problem.allowed) == (
        "environments.dev.edge.wafRedactedHeaders",
        "x-api-key",
        "expected a list",
    )


def test_more_than_twenty_waf_redacted_headers_are_rejected() -> None:
    headers = [f"x-header-{number}" for number in range(21)]

    problem = only_problem(environment("dev", edge={"wafRedactedHeaders": headers}))

    assert problem.path == "environments.dev.edge.wafRedactedHeaders"
    assert "(20 at most)" in problem.allowed


def test_no_waf_redacted_headers_are_added_when_left_out() -> None:
    assert parsed(environment("dev")).edge.waf_redacted_headers == ()
