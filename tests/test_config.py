"""The cdk.json context as a whole: how the sections compose into one report, and the rules between
components, between environments and of the pipeline; the AWS name limits config enforces.

Each test breaks one value in a fresh copy of the test fixture's context
(tests/fixture_context.json: cdk.json's shape, example values) and checks that the error names the
key path, the bad value and what is allowed. No App is built, so these run in milliseconds. Each
section's own values and rules are tested in its component (constructs_lib/<component>/tests).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs
import pytest
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from constructs_lib.config import AppConfig, ConfigError, EnvironmentConfig, Problem
from constructs_lib.core import InvalidNameError, NameKind, Naming, is_lower_word
from constructs_lib.core.tests.literal_context import only_problem, problem_at, problems
from constructs_lib.edge import EdgeSection
from constructs_lib.monitoring import AlarmsSection, AutoshiftSection
from constructs_lib.security import SecuritySection
from constructs_lib.storage import StorageSection
from tests.conftest import REPO
from tools.config_schema import REFERENCE, SCHEMA_FILE, json_schema, reference_table
from tools.context import cdk_json_context, fixture_context

Context = dict[str, Any]

# The fixture's environments; cdk.json may name its own.
COMMITTED_ENVIRONMENTS = ("dev", "staging", "prod", "local")
# The switches only an emulator-only environment may turn off, at their place in the sections.
EMULATOR_SWITCHES = (
    "network.restrictDefaultSecurityGroup",
    "security.ensureServiceLinkedRole",
    "storage.emptyBucketsOnDelete",
)


def with_values(environment: str, **values: object) -> Context:
    """The fixture's context with `values` set on one environment (a whole section replaced)."""
    context = fixture_context()
    context["environments"][environment].update(values)
    return context


def with_section(environment: str, section: str, **values: object) -> Context:
    """The fixture's context with `values` set in one section of one environment."""
    context = fixture_context()
    context["environments"][environment].setdefault(section, {}).update(values)
    return context


def without_key(environment: str, key: str) -> Context:
    context = fixture_context()
    del context["environments"][environment][key]
    return context


def environment_named(config: AppConfig, name: str) -> EnvironmentConfig:
    (found,) = (e for e in config.environments if e.name == name)
    return found


def test_committed_json_schema_is_generated_from_the_models() -> None:
    assert SCHEMA_FILE.read_text() == json_schema(), (
        f"{SCHEMA_FILE.name} is stale: run `make schema`"
    )


def test_the_key_table_of_the_configuration_document_is_generated_from_the_models() -> None:
    assert REFERENCE.read() == reference_table(), (
        f"the key table of {REFERENCE.path.name} is stale: run `make schema`"
    )


def test_the_key_table_names_every_key_at_its_section() -> None:
    table = reference_table()

    assert "| `environments.<name>.fleet.release` | `sha256` |" in table
    assert "| `environments.<name>.alarms.zonal` | `latencyOutlierRatio` |" in table
    assert "| `environments.<name>.network` | `natGateways` | 0 (AWS-only egress) to the " in table
    assert "| `pipeline` | `manualApproval` |" in table
    assert "@name" not in table


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


def test_the_json_schema_rejects_a_key_of_the_flat_layout() -> None:
    context = with_values("dev", minCapacity=2)

    with pytest.raises(jsonschema.ValidationError, match="minCapacity"):
        jsonschema.validate({"context": context}, json.loads(SCHEMA_FILE.read_text()))


def test_every_environment_is_selected_when_no_env_is_given() -> None:
    config = AppConfig.from_context(fixture_context())

    assert tuple(e.name for e in config.selected_environments) == COMMITTED_ENVIRONMENTS


def test_optional_keys_and_sections_take_their_defaults_when_left_out() -> None:
    context = fixture_context()
    dev = context["environments"]["dev"]
    for key in (
        "emulator",
        "logRetentionDays",
        "security",
        "storage",
        "edge",
        "alarms",
        "autoshift",
    ):
        dev.pop(key, None)

    environment = environment_named(AppConfig.from_context(context), "dev")

    assert (environment.emulator, environment.log_retention_days) == (False, 90)
    assert (
        environment.security,
        environment.storage,
        environment.edge,
        environment.alarms,
        environment.autoshift,
    ) == (
        SecuritySection.model_validate({}),
        StorageSection.model_validate({}),
        EdgeSection.model_validate({}),
        AlarmsSection.model_validate({}),
        AutoshiftSection.model_validate({}),
    )


def test_null_for_an_optional_key_or_section_means_its_default() -> None:
    config = AppConfig.from_context(with_values("prod", alarms=None, logRetentionDays=None))

    prod = environment_named(config, "prod")
    assert (prod.alarms, prod.log_retention_days) == (AlarmsSection.model_validate({}), 90)


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
    context = with_section("prod", "network", vpcCidr="8.8.0.0/16")
    context["env"] = "prod"

    assert only_problem(context).path == "environments.prod.network.vpcCidr"


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("true", True), ("false", False)])
def test_lookups_switch_takes_the_strings_the_cdk_cli_passes(value: object, expected: bool) -> None:
    assert AppConfig.from_context({**fixture_context(), "lookups": value}).lookups is expected


def test_lookups_are_off_unless_asked_for() -> None:
    assert not AppConfig.from_context(fixture_context()).lookups


def test_lookups_switch_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem({**fixture_context(), "lookups": "yes"})

    assert (problem.path, problem.value) == ("lookups", "yes")


# Where an environment is deployed: the keys beside its sections, which every section's rules read.


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


def test_a_region_without_known_zones_asks_for_its_row_in_the_table() -> None:
    context = with_values(
        "dev", region="xx-north-9", availabilityZones=["xx-north-9a", "xx-north-9b"]
    )

    found = problems(context)

    assert found[0].path == "environments.dev.region"
    assert "AVAILABILITY_ZONE_LETTERS" in found[0].allowed


def test_availability_zone_outside_the_region_is_rejected() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", "us-west-2b"]))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones[1]", "us-west-2b")
    assert "not an availability zone of region us-east-1" in problem.allowed


def test_a_zone_letter_the_region_does_not_have_is_named_with_the_zones_it_has() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", "us-east-1g"]))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones[1]", "us-east-1g")
    assert "us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f" in (
        problem.allowed
    )


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


def test_availability_zone_that_is_not_a_string_is_rejected() -> None:
    problem = only_problem(with_values("dev", availabilityZones=["us-east-1a", 1]))

    assert (problem.path, problem.value) == ("environments.dev.availabilityZones[1]", 1)
    assert "expected a string" in problem.allowed


@pytest.mark.parametrize("days", [0, 2, 45, 366, 3654])
def test_log_retention_that_cloudwatch_does_not_offer_is_rejected(days: int) -> None:
    problem = only_problem(with_values("dev", logRetentionDays=days))

    assert (problem.path, problem.value) == ("environments.dev.logRetentionDays", days)
    assert "expected one of" in problem.allowed
    assert all(str(offered) in problem.allowed for offered in (1, 30, 365, 1827))


@pytest.mark.parametrize("days", [1, 1827, 2192, 3653])
def test_every_retention_cloudwatch_offers_is_accepted(days: int) -> None:
    config = AppConfig.from_context(with_values("dev", logRetentionDays=days))

    assert environment_named(config, "dev").log_retention_days == days


def test_emulator_that_is_not_true_or_false_is_rejected() -> None:
    problem = only_problem(with_values("local", emulator="yes"))

    assert (problem.path, problem.value) == ("environments.local.emulator", "yes")
    assert problem.allowed == "expected true or false"


def test_an_emulator_environment_declared_for_a_real_account_is_rejected() -> None:
    problem = only_problem(with_values("local", account="111111111111"))

    assert (problem.path, problem.value) == ("environments.local.account", "111111111111")
    assert "emulator's account 123456789012 only" in problem.allowed


# The switches an emulator-only environment may turn off, each in its own section.


def test_every_protection_switched_off_in_real_accounts_is_reported_in_one_run() -> None:
    context = fixture_context()
    for environment in ("dev", "staging"):
        for switch in EMULATOR_SWITCHES:
            section, key = switch.split(".")
            context["environments"][environment].setdefault(section, {})[key] = False

    found = problems(context)

    assert [p.path for p in found] == [
        f"environments.{environment}.{switch}"
        for environment in ("dev", "staging")
        for switch in EMULATOR_SWITCHES
    ]
    assert all("declared emulator-only (emulator: true)" in p.allowed for p in found)


def test_the_emulator_environment_may_switch_the_lambda_backed_protections_off() -> None:
    local = environment_named(AppConfig.from_context(fixture_context()), "local")

    assert local.emulator
    assert not local.network.restrict_default_security_group
    assert not local.security.ensure_service_linked_role
    assert not local.empties_buckets_on_delete


def test_an_environment_that_stops_being_emulator_only_must_turn_its_protections_back_on() -> None:
    found = problems(with_values("local", emulator=False))

    assert [p.path for p in found] == [f"environments.local.{s}" for s in EMULATOR_SWITCHES]


def test_the_pipeline_never_deploys_an_emulator_only_environment_whatever_its_name() -> None:
    context = fixture_context()
    context["environments"]["sandbox"] = context["environments"].pop("local")
    context["pipeline"]["environments"] = ["sandbox", "dev", "prod"]

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("pipeline.environments[0]", "sandbox")
    assert "emulator-only (emulator: true)" in problem.allowed


# The rules between components of one environment.


def test_db_port_equal_to_app_port_is_rejected() -> None:
    context = with_section("dev", "security", dbPort=8080)

    problem = only_problem(context)

    assert (problem.path, problem.value, problem.allowed) == (
        "environments.dev.security.dbPort",
        8080,
        "must differ from fleet.appPort (8080)",
    )


def test_autoshift_with_fewer_instances_than_azs_is_rejected_naming_the_floor() -> None:
    problem = only_problem(with_section("prod", "fleet", minCapacity=2))

    assert (problem.path, problem.value) == ("environments.prod.fleet.minCapacity", 2)
    assert "at least one instance per AZ (3)" in problem.allowed


@pytest.mark.parametrize("min_capacity", [4, 5, 7])
def test_autoshift_with_a_floor_the_other_azs_cannot_carry_is_rejected(min_capacity: int) -> None:
    # 4 in 3 AZs is 2+1+1: losing the AZ with 2 leaves half the fleet at 120% CPU.
    context = with_section("prod", "fleet", minCapacity=min_capacity, maxCapacity=12)

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.prod.fleet.minCapacity", min_capacity)
    assert "use a multiple of the AZ count" in problem.allowed


@pytest.mark.parametrize("min_capacity", [3, 6, 9])
def test_autoshift_with_a_floor_spread_evenly_over_three_azs_is_accepted(min_capacity: int) -> None:
    context = with_section("prod", "fleet", minCapacity=min_capacity, maxCapacity=12)

    prod = environment_named(AppConfig.from_context(context), "prod")

    assert (prod.autoshifts, prod.fleet.min_capacity) == (True, min_capacity)


def test_autoshift_over_two_azs_is_rejected_as_one_az_cannot_carry_the_other() -> None:
    context = with_values("prod", availabilityZones=["us-east-1a", "us-east-1b"])
    context["environments"]["prod"]["network"]["natGateways"] = 2

    problem = only_problem(context)

    assert problem.path == "environments.prod.fleet.minCapacity"
    assert "with 2 AZs" in problem.allowed


def test_autoshift_without_a_nat_gateway_per_az_is_rejected() -> None:
    problem = only_problem(with_section("prod", "network", natGateways=1))

    assert (problem.path, problem.value) == ("environments.prod.network.natGateways", 1)
    assert "one per AZ (3)" in problem.allowed


def test_without_autoshift_an_environment_may_be_unable_to_lose_an_az() -> None:
    # dev (1 instance, 2 AZs, 1 NAT) gets a synth warning instead (stacks/compute_stack.py).
    context = with_values("prod", autoshift={"enabled": False})
    context["environments"]["prod"]["fleet"]["minCapacity"] = 2
    context["environments"]["prod"]["network"]["natGateways"] = 1

    prod = environment_named(AppConfig.from_context(context), "prod")

    assert not prod.autoshifts


# The rules between environments.


def test_overlapping_vpc_cidrs_between_environments_are_rejected() -> None:
    problem = only_problem(with_section("dev", "network", vpcCidr="10.30.128.0/17"))

    assert (problem.path, problem.value) == ("environments.prod.network.vpcCidr", "10.30.0.0/16")
    assert "overlaps environments.dev.network.vpcCidr (10.30.128.0/17)" in problem.allowed


def test_one_ami_id_in_two_regions_is_rejected_because_ami_ids_are_regional() -> None:
    context = with_values("dev", region="us-west-2", availabilityZones=["us-west-2a", "us-west-2b"])

    problem = problem_at(context, "environments.staging.fleet.amiId")

    assert "also the amiId of environments.dev in us-west-2" in problem.allowed
    assert "use the ID of the same image in us-east-1" in problem.allowed


def test_one_domain_for_two_environments_is_rejected() -> None:
    prod_domain = fixture_context()["environments"]["prod"]["edge"]["domain"]

    problem = only_problem(with_section("staging", "edge", domain=prod_domain))

    assert (problem.path, problem.value) == (
        "environments.prod.edge.domain.name",
        "app.example.com",
    )
    assert "also the domain of environments.staging" in problem.allowed


def test_one_domain_name_for_two_environments_is_rejected_whatever_their_zones() -> None:
    context = fixture_context()
    context["environments"]["staging"]["edge"]["domain"].update(
        name="app.example.com", hostedZoneName="example.com"
    )

    problem = only_problem(context)

    assert (problem.path, problem.value) == (
        "environments.prod.edge.domain.name",
        "app.example.com",
    )


# Keys: unknown, misspelt, moved into a section, removed, or CDK's own.


# The flat layout of an environment before it had sections (cdk.json up to 2026-12-01): every key
# that left the environment's top level, and where a team's cdk.json now holds it. Written out here,
# not read from the implementation, so a key dropped from the error's map fails its case.
FLAT_LAYOUT = {
    "vpcCidr": "network.vpcCidr",
    "natGateways": "network.natGateways",
    "interfaceEndpoints": "network.interfaceEndpoints",
    "restrictDefaultSecurityGroup": "network.restrictDefaultSecurityGroup",
    "dbPort": "security.dbPort",
    "ensureServiceLinkedRole": "security.ensureServiceLinkedRole",
    "emptyBucketsOnDelete": "storage.emptyBucketsOnDelete",
    "instanceType": "fleet.instanceType",
    "amiId": "fleet.amiId",
    "architecture": "fleet.architecture",
    "minCapacity": "fleet.minCapacity",
    "maxCapacity": "fleet.maxCapacity",
    "appPort": "fleet.appPort",
    "healthCheckPath": "fleet.healthCheckPath",
    "rollout": "fleet.rollout",
    "releaseArtifact": "fleet.release.artifact",
    "releaseVersionId": "fleet.release.versionId",
    "releaseSha256": "fleet.release.sha256",
    "certificateArn": "edge.certificateArn",
    "domainName": "edge.domain.name",
    "hostedZoneId": "edge.domain.hostedZoneId",
    "hostedZoneName": "edge.domain.hostedZoneName",
    "wafRedactedHeaders": "edge.wafRedactedHeaders",
    "alarmEmail": "alarms.email",
    "notificationEmail": "alarms.notificationEmail",
    "alarmResponseTimeP99Seconds": "alarms.responseTimeP99Seconds",
    "alarmServerErrorRatePercent": "alarms.serverErrorRatePercent",
    "alarmMinimumRequests": "alarms.minimumRequests",
    "alarmElbErrorsPerMinute": "alarms.elbErrorsPerMinute",
    "zonalServerErrorRatePercent": "alarms.zonal.serverErrorRatePercent",
    "zonalResponseTimeP99Seconds": "alarms.zonal.responseTimeP99Seconds",
    "zonalMinimumRequests": "alarms.zonal.minimumRequests",
    "zonalErrorOutlierPoints": "alarms.zonal.errorOutlierPoints",
    "zonalLatencyOutlierRatio": "alarms.zonal.latencyOutlierRatio",
    "zonalAutoshift": "autoshift.enabled",
    "practiceRunBlockedWindows": "autoshift.practiceRunBlockedWindows",
    "practiceRunBlockedDates": "autoshift.practiceRunBlockedDates",
}


@pytest.mark.parametrize(("old", "new"), FLAT_LAYOUT.items(), ids=list(FLAT_LAYOUT))
def test_a_key_of_the_flat_layout_is_reported_with_its_new_place(old: str, new: str) -> None:
    problem = only_problem(with_values("dev", **{old: "value"}))

    assert (
        str(problem) == f'environments.dev.{old} = "value": moved: set it as environments.dev.{new}'
    )
    assert is_a_key_of_an_environment(new), f"{new} names no key of the sections"


def is_a_key_of_an_environment(path: str) -> bool:
    """Whether a dotted path of cdk.json keys names a field of an environment's models."""
    model: type[BaseModel] | None = EnvironmentConfig
    for part in path.split("."):
        if model is None or (field := fields_of(model).get(part)) is None:
            return False
        model = next(
            (
                a
                for a in (field.annotation, *typing.get_args(field.annotation))
                if isinstance(a, type) and issubclass(a, BaseModel)
            ),
            None,
        )
    return True


def fields_of(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {str(field.alias): field for field in model.model_fields.values()}


def test_a_name_inside_an_environment_is_an_unknown_key_its_name_is_its_key() -> None:
    context = with_values("dev", name="development")

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.dev.name", "development")
    assert problem.allowed.startswith("unknown key")
    allowed = problem.allowed.split("(allowed: ")[1].removesuffix(")").split(", ")
    assert "name" not in allowed
    assert "@name" not in allowed


def test_desired_capacity_is_rejected_saying_what_replaced_it() -> None:
    problem = only_problem(with_values("dev", desiredCapacity=2))

    assert (problem.path, problem.value) == ("environments.dev.desiredCapacity", 2)
    assert problem.allowed.startswith("no longer supported: the group starts at fleet.minCapacity")
    assert "would reset a scaled-out fleet on every deploy (remove the key)" in problem.allowed


def test_misspelt_section_is_rejected_with_a_did_you_mean_hint() -> None:
    problem = only_problem(with_values("dev", fleets={}))

    assert (problem.path, problem.value) == ("environments.dev.fleets", {})
    assert "unknown key; did you mean 'fleet'?" in problem.allowed


def test_misspelt_key_of_a_section_is_rejected_with_a_did_you_mean_hint() -> None:
    problem = only_problem(with_section("dev", "network", vpcCidrs="10.11.0.0/16"))

    assert (problem.path, problem.value) == ("environments.dev.network.vpcCidrs", "10.11.0.0/16")
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


def test_unknown_environment_key_lists_the_placement_keys_and_the_sections() -> None:
    problem = only_problem(with_values("dev", zzz=1))

    assert problem.allowed.endswith(
        "(allowed: account, alarms, autoshift, availabilityZones, edge, emulator, fleet, "
        "logRetentionDays, network, region, security, storage)"
    )


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


# Shapes: a value of the wrong type, a section or environment that is no object, a missing key.


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("availabilityZones", "us-east-1a", "expected a list"),
        ("account", 111111111111, "expected a string"),
        ("account", None, "expected a string"),
        ("network", "10.10.0.0/16", "expected an object (a JSON map of keys to values)"),
        ("alarms", ["oncall@example.com"], "expected an object (a JSON map of keys to values)"),
    ],
)
def test_value_of_the_wrong_type_is_rejected(key: str, value: object, expected: str) -> None:
    problem = only_problem(with_values("dev", **{key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.dev.{key}",
        value,
        expected,
    )


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


@pytest.mark.parametrize("key", ["account", "region", "availabilityZones", "network", "fleet"])
def test_missing_required_environment_key_is_named(key: str) -> None:
    problem = only_problem(without_key("prod", key))

    assert (problem.path, problem.value) == (f"environments.prod.{key}", None)
    assert problem.allowed.startswith("required key is missing")


@pytest.mark.parametrize("key", ["project", "owner", "costCenter", "environments"])
def test_missing_required_top_level_key_is_named(key: str) -> None:
    context = fixture_context()
    del context[key]

    problem = only_problem(context)

    assert (problem.path, problem.value) == (key, None)
    assert problem.allowed.startswith("required key is missing")


# The project's and the environments' names.


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


# One run, one report.


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
            target = target.setdefault(parent, {})
        target[key] = value

    return change


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(
            broken(
                set_at("projct", "shop"),
                set_at("environments.dev.fleet.appPort", 22),
                set_at("environments.staging.fleet.minCapacity", 0),
                set_at("environments.prod.network.vpcCidr", "8.8.0.0/16"),
            ),
            [
                "environments.dev.fleet.appPort",
                "environments.staging.fleet.minCapacity",
                "environments.prod.network.vpcCidr",
                "projct",
            ],
            id="malformed values of several environments and the top level",
        ),
        pytest.param(
            broken(
                set_at("environments.dev.security.dbPort", 8080),
                set_at("environments.dev.fleet.minCapacity", 3),
                set_at("environments.dev.fleet.maxCapacity", 3),
                set_at("env", "dev,qa"),
            ),
            ["environments.dev.fleet.minCapacity", "environments.dev.security.dbPort", "env"],
            id="broken rules between values",
        ),
        pytest.param(
            broken(
                set_at("environments.dev.network.natGateways", "1"),
                set_at("environments.staging.fleet.minCapacity", 3),
                set_at("environments.staging.fleet.maxCapacity", 3),
                set_at("env", "dev,qa"),
                set_at("pipeline.manualApproval", ["qa"]),
            ),
            [
                "environments.dev.network.natGateways",
                "environments.staging.fleet.minCapacity",
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
                set_at("environments.dev.fleet.minCapacity", 3),
                set_at("environments.dev.fleet.maxCapacity", 3),
                set_at("environments.dev.fleet.appPort", "8080"),
            ),
            ["environments.dev.fleet.appPort"],
            # minCapacity 3 is not below maxCapacity 3, but a rule over a half-read section would
            # only echo its first problem: a section's own rules wait for its values.
            id="a section's own rules wait for its values",
        ),
        pytest.param(
            broken(
                set_at("environments.dev.network.natGateways", 5),
                set_at("environments.dev.fleet.appPort", "8080"),
            ),
            ["environments.dev.fleet.appPort", "environments.dev.network.natGateways"],
            # natGateways 5 exceeds dev's two AZs: the network's rules need only the network and
            # the placement, so a malformed fleet does not hide them.
            id="a section's rules do not wait for another section",
        ),
        pytest.param(
            broken(
                set_at("environments.prod.fleet.rollout.minHealthyPercentage", 90),
                set_at("environments.dev.fleet.rollout", {"bakeTimeMinutes": 1}),
            ),
            [
                "environments.dev.fleet.rollout.bakeTimeMinutes",
                "environments.prod.fleet.rollout.minHealthyPercentage",
            ],
            id="rollout problems of several environments",
        ),
    ],
)
def test_one_run_reports_every_problem_once(context: Context, expected: list[str]) -> None:
    assert [p.path for p in problems(context)] == expected


def test_parsed_configuration_is_immutable_and_hashable() -> None:
    config = AppConfig.from_context(fixture_context())

    with pytest.raises(ValidationError, match="frozen"):
        config.environments[0].fleet.min_capacity = 5
    with pytest.raises(ValidationError, match="frozen"):
        config.environments[0].fleet = config.environments[1].fleet
    assert len({config, *config.environments}) == 1 + len(COMMITTED_ENVIRONMENTS)


def test_report_shows_each_problem_on_its_own_line_with_path_value_and_what_is_allowed() -> None:
    context = with_section("prod", "network", vpcCidr="8.8.0.0/16")
    context["environments"]["prod"]["alarms"]["email"] = "oncall"

    with pytest.raises(ConfigError) as caught:
        AppConfig.from_context(context)

    lines = caught.value.report().splitlines()
    assert lines[0] == "Invalid configuration in cdk.json context (2 problem(s)):"
    assert lines[1].startswith(
        '  - environments.prod.network.vpcCidr = "8.8.0.0/16": expected a private'
    )
    assert lines[2] == ('  - environments.prod.alarms.email = "oncall": expected an e-mail address')


def test_the_report_writes_values_as_cdk_json_does_null_true_and_double_quotes() -> None:
    report = ConfigError(
        [Problem("a", None, "x"), Problem("b", True, "y"), Problem("c", "dev", "z")]
    ).report()

    assert "a = null: x" in report
    assert "b = true: y" in report
    assert 'c = "dev": z' in report


# The names built from the configuration, and the AWS limits they must fit.


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
