"""The `fleet` section: the instances, their capacity, the release they run and how a release
replaces them."""

from __future__ import annotations

import pytest

from constructs_lib.core.tests.literal_context import (
    OMITTED,
    environment,
    only_problem,
    parsed,
    problem_at,
)
from constructs_lib.fleet import RolloutSection

SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
# As S3 prints them for a versioned bucket: opaque, not meant to be parsed.
VERSION = "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"


def test_optional_fleet_keys_take_their_defaults_when_left_out() -> None:
    fleet = parsed(environment("dev")).fleet

    assert (fleet.architecture, fleet.app_port, fleet.health_check_path, fleet.release) == (
        "x86_64",
        8080,
        "/health",
        None,
    )


def test_root_volume_defaults_to_20_gib() -> None:
    assert parsed(environment("dev")).fleet.root_volume_gib == 20


@pytest.mark.parametrize("size", [7, 16385])
def test_root_volume_outside_what_the_image_and_gp3_allow_is_rejected(size: int) -> None:
    problem = only_problem(environment("dev", fleet={"rootVolumeGib": size}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.rootVolumeGib", size)
    assert "8 (Amazon Linux 2023's snapshot) to 16384 (gp3)" in problem.allowed


@pytest.mark.parametrize("key", ["instanceType", "amiId", "minCapacity", "maxCapacity"])
def test_missing_required_fleet_key_is_named(key: str) -> None:
    problem = only_problem(environment("prod", fleet={key: OMITTED}))

    assert (problem.path, problem.value) == (f"environments.prod.fleet.{key}", None)
    assert problem.allowed.startswith("required key is missing")


def test_desired_capacity_is_rejected_saying_what_replaced_it() -> None:
    problem = only_problem(environment("dev", fleet={"desiredCapacity": 2}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.desiredCapacity", 2)
    assert problem.allowed.startswith("no longer supported: the group starts at fleet.minCapacity")
    assert "would reset a scaled-out fleet on every deploy (remove the key)" in problem.allowed


def test_min_capacity_equal_to_max_capacity_is_rejected_as_the_group_could_not_scale() -> None:
    problem = only_problem(environment("prod", fleet={"minCapacity": 3, "maxCapacity": 3}))

    assert (problem.path, problem.value) == ("environments.prod.fleet.minCapacity", 3)
    assert "must be below maxCapacity (3)" in problem.allowed
    assert "the group scales between them" in problem.allowed


@pytest.mark.parametrize("key", ["minCapacity", "maxCapacity"])
@pytest.mark.parametrize("capacity", [0, -1, 1001])
def test_capacity_outside_1_to_1000_is_rejected(key: str, capacity: int) -> None:
    problem = only_problem(environment("prod", fleet={key: capacity}))

    assert (problem.path, problem.value) == (f"environments.prod.fleet.{key}", capacity)
    assert problem.allowed == "expected 1 to 1000"


def test_capacity_that_is_not_an_integer_is_rejected() -> None:
    problem = only_problem(environment("dev", fleet={"minCapacity": True}))

    assert (problem.path, problem.value, problem.allowed) == (
        "environments.dev.fleet.minCapacity",
        True,
        "expected an integer",
    )


@pytest.mark.parametrize("instance_type", ["t3small", "T3.small", "t3.", "large", "t.small"])
def test_malformed_instance_type_is_rejected(instance_type: str) -> None:
    problem = only_problem(environment("dev", fleet={"instanceType": instance_type}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.instanceType", instance_type)
    assert "EC2 instance type such as t3.small" in problem.allowed


@pytest.mark.parametrize("ami_id", ["ami-123", "ami-0453ec754f44f9a4", "ami-0453EC754F44F9A4A"])
def test_malformed_ami_id_is_rejected(ami_id: str) -> None:
    problem = only_problem(environment("dev", fleet={"amiId": ami_id}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.amiId", ami_id)
    assert "AMI ID such as ami-0123456789abcdef0" in problem.allowed


@pytest.mark.parametrize("path", ["health", "/health check", ""])
def test_health_check_path_that_is_not_a_url_path_is_rejected(path: str) -> None:
    problem = only_problem(environment("dev", fleet={"healthCheckPath": path}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.healthCheckPath", path)
    assert "URL path starting with '/'" in problem.allowed


def test_app_port_22_is_rejected_because_access_goes_through_session_manager() -> None:
    problem = only_problem(environment("dev", fleet={"appPort": 22}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.appPort", 22)
    assert "port 22 is not allowed" in problem.allowed
    assert "SSM Session Manager" in problem.allowed


@pytest.mark.parametrize("port", [0, 65536])
def test_app_port_outside_the_tcp_range_is_rejected(port: int) -> None:
    problem = only_problem(environment("dev", fleet={"appPort": port}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.appPort", port)
    assert "TCP port from 1 to 65535" in problem.allowed


@pytest.mark.parametrize("instance_type", ["m7g.large", "t4g.small", "c7gn.xlarge", "a1.large"])
def test_a_graviton_type_with_an_x86_ami_is_rejected(instance_type: str) -> None:
    problem = only_problem(environment("dev", fleet={"instanceType": instance_type}))

    assert (problem.path, problem.value) == ("environments.dev.fleet.instanceType", instance_type)
    assert "arm64 instance type; the AMI is x86_64 (architecture)" in problem.allowed


@pytest.mark.parametrize("instance_type", ["m7i.large", "g5.xlarge", "g4dn.xlarge", "c6a.large"])
def test_an_x86_type_with_an_arm64_ami_is_rejected(instance_type: str) -> None:
    context = environment("dev", fleet={"instanceType": instance_type, "architecture": "arm64"})

    problem = only_problem(context)

    assert (problem.path, problem.value) == ("environments.dev.fleet.instanceType", instance_type)
    assert "x86_64 instance type; the AMI is arm64" in problem.allowed


def test_a_graviton_type_with_an_arm64_ami_is_accepted() -> None:
    context = environment("dev", fleet={"instanceType": "m7g.large", "architecture": "arm64"})

    assert parsed(context).fleet.architecture == "arm64"


def test_an_unknown_architecture_is_named_with_the_two_allowed() -> None:
    problem = only_problem(environment("dev", fleet={"architecture": "aarch64"}))

    assert problem.path == "environments.dev.fleet.architecture"
    assert "x86_64" in problem.allowed
    assert "arm64" in problem.allowed


def release(**values: object) -> dict[str, object]:
    """`fleet.release` with a valid archive key, version and digest, `values` replacing them."""
    return {"artifact": "releases/app-1.2.3.tgz", "versionId": VERSION, "sha256": SHA256, **values}


def with_release(**values: object) -> dict[str, object]:
    return environment("dev", fleet={"release": release(**values)})


@pytest.mark.parametrize("key", ["app.tgz", "releases/", "builds/app.tgz", "releases/app v2.tgz"])
def test_release_artifact_outside_the_releases_prefix_is_rejected(key: str) -> None:
    problem = only_problem(with_release(artifact=key))

    assert (problem.path, problem.value) == ("environments.dev.fleet.release.artifact", key)
    assert "object key under releases/" in problem.allowed


def test_release_artifact_under_the_releases_prefix_with_its_version_is_accepted() -> None:
    fleet = parsed(with_release()).fleet

    assert fleet.release is not None
    assert (fleet.release.artifact, fleet.release.version_id, fleet.release.sha256) == (
        "releases/app-1.2.3.tgz",
        VERSION,
        SHA256,
    )


@pytest.mark.parametrize("key", ["artifact", "versionId", "sha256"])
def test_release_without_one_of_its_keys_is_reported_as_that_missing_key(key: str) -> None:
    # The archive, its version and its digest are one type: a release without its version (a
    # later upload to the same key would change what scale-out installs) or its digest (an
    # overwritten object could split the fleet) cannot be written.
    problem = only_problem(with_release(**{key: OMITTED}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.dev.fleet.release.{key}",
        None,
        "required key is missing",
    )


@pytest.mark.parametrize("key", ["releaseVersionId", "releaseSha256"])
def test_a_version_or_digest_without_a_release_is_an_unknown_key_of_the_fleet(key: str) -> None:
    value = VERSION if key == "releaseVersionId" else SHA256

    problem = only_problem(environment("dev", fleet={key: value}))

    assert (problem.path, problem.value) == (f"environments.dev.fleet.{key}", value)
    assert problem.allowed.startswith("unknown key; did you mean 'release'?")


@pytest.mark.parametrize(
    "version_id",
    ["", "two words", "tab\there", "versi\u00f3n", "v" * 1025],
    ids=["empty", "space", "tab", "non-ascii", "over-1024"],
)
def test_release_version_id_that_s3_cannot_have_issued_is_rejected(version_id: str) -> None:
    context = with_release(versionId=version_id)

    problem = problem_at(context, "environments.dev.fleet.release.versionId")

    assert problem.value == version_id
    assert problem.allowed.startswith("expected the S3 version ID of artifact")


def test_release_version_id_of_1024_characters_is_accepted() -> None:
    fleet = parsed(with_release(versionId="v" * 1024)).fleet

    assert fleet.release is not None
    assert fleet.release.version_id == "v" * 1024


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
    problem = problem_at(with_release(sha256=digest), "environments.dev.fleet.release.sha256")

    assert problem.value == digest
    assert problem.allowed == "expected the release archive's SHA-256: 64 lower-case hex digits"


def with_rollout(name: str, **rollout: object) -> dict[str, object]:
    return environment(name, fleet={"rollout": rollout})


def test_rollout_left_out_keeps_the_whole_capacity_and_bakes_past_the_alarm_window() -> None:
    rollout = parsed(environment("dev")).fleet.rollout

    assert rollout == RolloutSection.model_validate({})
    assert (
        rollout.min_healthy_percentage,
        rollout.max_healthy_percentage,
        rollout.bake_time_minutes,
        rollout.checkpoints,
        rollout.checkpoint_delay_minutes,
        rollout.alarm_gate,
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
    problem = only_problem(with_rollout("dev", **{key: value}))

    assert (problem.path, problem.value, problem.allowed) == (
        f"environments.dev.fleet.rollout.{key}",
        value,
        allowed,
    )


def test_unknown_rollout_key_is_rejected_suggesting_the_one_meant() -> None:
    problem = only_problem(with_rollout("dev", bakeTime=15))

    assert problem.path == "environments.dev.fleet.rollout.bakeTime"
    assert problem.allowed.startswith("unknown key; did you mean 'bakeTimeMinutes'?")


def test_production_release_may_not_take_capacity_out_of_service() -> None:
    problem = only_problem(with_rollout("prod", minHealthyPercentage=90))

    assert (problem.path, problem.value) == (
        "environments.prod.fleet.rollout.minHealthyPercentage",
        90,
    )
    assert problem.allowed.endswith("while a release replaces instances: 100")


def test_other_environments_may_replace_part_of_their_capacity_at_once() -> None:
    dev = parsed(with_rollout("dev", minHealthyPercentage=50))

    assert dev.fleet.rollout.min_healthy_percentage == 50


def test_maximum_more_than_100_above_the_minimum_is_rejected_as_aws_does() -> None:
    context = with_rollout("dev", minHealthyPercentage=60, maxHealthyPercentage=170)

    problem = only_problem(context)

    assert (problem.path, problem.value) == (
        "environments.dev.fleet.rollout.maxHealthyPercentage",
        170,
    )
    assert "at most 100 above minHealthyPercentage (60)" in problem.allowed


def test_maximum_without_room_for_one_instance_at_min_capacity_names_the_smallest_allowed() -> None:
    # prod: minCapacity 3, so 133% of it is 3.99 instances: no replacement could launch.
    problem = only_problem(with_rollout("prod", maxHealthyPercentage=133))

    assert (problem.path, problem.value) == (
        "environments.prod.fleet.rollout.maxHealthyPercentage",
        133,
    )
    assert "leaves no room for one instance at minCapacity (3)" in problem.allowed
    assert "at least 134 (or leave it out)" in problem.allowed
