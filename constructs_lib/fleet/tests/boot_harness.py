"""Runs the boot script as the launch template delivers it, by bash against fake AWS tools.

`render_user_data` turns a template's user data into what an instance receives (intrinsics
replaced by fake values, as CloudFormation would substitute real ones); `run_boot_script` runs it
in a sandbox whose PATH starts with fake `cfn-signal`, `aws`, `curl`, `dnf`, `systemctl`, `sleep`
and `timeout`, and records what the script told CloudFormation. No AWS account, no root and no
real waiting: the script's clock (the kernel's uptime) is a file in the sandbox that the fake
`sleep` moves on, and a fake that hangs moves it by the limit its fake `timeout` set (by a day when
nothing set one).

The fleet's own tests run it on a Fleet built alone (test_boot_script.py); tests/ runs it on the
app's compute stack for what only the app wires.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def option(args: tuple[str, ...], name: str) -> str:
    """The value that follows `name` in a command line."""
    return args[args.index(name) + 1]


def only_signal(run: BootRun) -> dict[str, str]:
    assert len(run.signals) == 1, (run.signals, run.stderr)
    return run.signals[0]
