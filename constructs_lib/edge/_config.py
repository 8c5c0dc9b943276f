"""The `edge` section of an environment: HTTPS, the domain and what WAF keeps out of its logs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from constructs_lib.core import (
    MAX_CERTIFICATE_DOMAIN,
    DnsName,
    Placement,
    Problem,
    Problems,
    Section,
    text,
)

# Lower case: WAF matches header names case-insensitively, so `X-Api-Key` and `x-api-key` are one.
HeaderName = Annotated[
    str, text(r"^[a-z0-9!#$%&'*+.^_`|~-]+$", "a lower-case HTTP header name such as x-api-key")
]


class DomainSection(Section):
    """The web tier's host name and the Route 53 public hosted zone it lives in."""

    name: DnsName = Field(description="the web tier's host name, such as app.example.com")
    hosted_zone_id: str = text(
        r"^Z[0-9A-Z]{1,31}$", "a Route 53 public hosted zone ID such as Z0123456789ABCDEFGHIJ"
    )
    hosted_zone_name: DnsName = Field(
        description="the name of that hosted zone, such as example.com (in this environment's "
        "account; no lookup at synth)"
    )


class EdgeSection(Section):
    """The load balancer's HTTPS (a certificate, or a domain whose certificate the app creates)
    and the web ACL's log redaction."""

    certificate_arn: str | None = text(
        r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}$",
        "an ACM certificate ARN",
        None,
    )
    domain: DomainSection | None = Field(
        None,
        description="the web tier's host name and its hosted zone; without certificateArn a "
        "DNS-validated certificate is created",
    )
    # authorization and cookie are always redacted (constructs_lib/edge/_web_acl.py).
    waf_redacted_headers: tuple[HeaderName, ...] = Field(
        (),
        strict=False,
        max_length=20,
        description="lower-case HTTP header names such as x-api-key (20 at most) that WAF "
        "logs as REDACTED",
    )

    @property
    def serves_https(self) -> bool:
        return self.certificate_arn is not None or self.domain is not None

    def problems(self, placement: Placement) -> Problems:
        at = f"{placement.path}.edge"
        if self.certificate_arn is not None:
            _, _, _, cert_region, cert_account, _ = self.certificate_arn.split(":", 5)
            if (cert_region, cert_account) != (placement.region, placement.account):
                allowed = f"a certificate of account {cert_account} in {cert_region}; a load "
                allowed += "balancer uses only certificates of its own account and region "
                allowed += f"({placement.account}, {placement.region})"
                yield Problem(f"{at}.certificateArn", self.certificate_arn, allowed)
        if placement.is_production and not self.serves_https:
            allowed = "production serves HTTPS only: set domain (with its hosted zone; the app "
            allowed += "creates the certificate) or certificateArn"
            yield Problem(f"{at}.certificateArn", None, allowed)
        if self.domain is None:
            return
        name, zone = self.domain.name, self.domain.hosted_zone_name
        if name != zone and not name.endswith(f".{zone}"):
            allowed = f"not inside hostedZoneName ({zone}): the records and the validation go there"
            yield Problem(f"{at}.domain.name", name, allowed)
        if self.certificate_arn is None and len(name) > MAX_CERTIFICATE_DOMAIN:
            allowed = f"at most {MAX_CERTIFICATE_DOMAIN} characters for the certificate the app "
            allowed += "requests (ACM's Common Name limit); shorten it or set certificateArn"
            yield Problem(f"{at}.domain.name", name, allowed)
        if self.certificate_arn is None and placement.emulator:
            allowed = "the emulator has no ACM certificates: leave an emulator-only environment "
            allowed += "without one"
            yield Problem(f"{at}.domain.name", name, allowed)
