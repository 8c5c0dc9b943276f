"""The WebDomain alone: what becomes of the certificate it issues, from a literal `domain`."""

from __future__ import annotations

from aws_cdk.assertions import Template

from constructs_lib.core.testing import bare_stack
from constructs_lib.edge import DomainSection, WebDomain

# As cdk.json spells the section.
DOMAIN = DomainSection.model_validate(
    {
        "name": "app.example.com",
        "hostedZoneId": "Z000000000000EXAMPLE1",
        "hostedZoneName": "example.com",
    }
)


def web_domain(*, issue_certificate: bool, is_production: bool) -> Template:
    stack = bare_stack()
    WebDomain(
        stack,
        "Domain",
        domain=DOMAIN,
        issue_certificate=issue_certificate,
        is_production=is_production,
    )
    return Template.from_stack(stack)


def test_production_certificate_is_kept_on_delete_and_replacement_but_not_a_failed_create() -> None:
    template = web_domain(issue_certificate=True, is_production=True)

    template.has_resource(
        "AWS::CertificateManager::Certificate",
        {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"},
    )


def test_non_production_domain_certificate_is_deleted_with_its_stack() -> None:
    template = web_domain(issue_certificate=True, is_production=False)

    template.has_resource(
        "AWS::CertificateManager::Certificate",
        {"DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete"},
    )


def test_production_domain_with_a_brought_certificate_issues_none() -> None:
    template = web_domain(issue_certificate=False, is_production=True)

    template.resource_count_is("AWS::CertificateManager::Certificate", 0)
