"""An embedded AWS emulator (moto's server) and the real CDK CLI pointed at it.

`make local` (tools/dev/local_emulator.py) and the integration tests (tests/integration/) share this
module: both synthesize with the pinned CLI, bootstrap, deploy with `--method=direct`, read the
result back through the AWS API, and destroy it with `cdk destroy`. Nothing here can reach AWS:
the emulator listens on 127.0.0.1, credentials are dummies, and no profile, credentials file or
instance metadata is consulted.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shlex
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError
from moto.server import ThreadedMotoServer

from tools.cloud_assembly import CloudAssembly, Stack
from tools.dev import moto_fixes

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"
CDK = NODE_BIN / "cdk"

# moto has one account; the `local` environment in cdk.json names it and this region.
ACCOUNT = "123456789012"
REGION = "us-east-1"
ENVIRONMENT = "local"
# The stack `cdk bootstrap` creates; a teardown keeps it, as `make destroy` does.
BOOTSTRAP_STACK = "CDKToolkit"
DUMMY_CREDENTIAL = "testing"
# Every stack of the synthesized assembly. `--all` would select only top-level stacks, and this
# app's stacks live in a cdk.Stage: `cdk deploy --all` finds none there.
ALL_STACKS = "**"
# CloudFormation types that are CDK bookkeeping rather than AWS resources.
NOT_AWS_RESOURCES = frozenset({"AWS::CDK::Metadata"})
CUSTOM_RESOURCE = re.compile(r"^(Custom::|AWS::CloudFormation::CustomResource$)")
# The default change-set deploy loses outputs and exports in moto.
DEPLOY_FLAGS = ("--method=direct", "--require-approval", "never")
SYNTH_TIMEOUT_SECONDS = 300
# moto never runs a Lambda function: a deploy that includes a Lambda-backed custom resource waits
# for an answer that never comes. A deploy of this app takes seconds; this bounds the wait.
DEPLOY_TIMEOUT_SECONDS = 180
DESTROY_FLAGS = ("--force",)


class CdkError(Exception):
    """A CDK CLI command that failed; `output` is everything it printed."""

    def __init__(self, command: list[str], returncode: int | None, output: str) -> None:
        self.command = command
        self.returncode = returncode
        self.output = output
        status = "timed out" if returncode is None else f"exited with {returncode}"
        super().__init__(f"`{' '.join(command[:3])} ...` {status}")

    def tail(self, lines: int = 15) -> str:
        return "\n".join(self.output.rstrip().splitlines()[-lines:])


class _InternalErrors(logging.Handler):
    """Keeps the last line (the exception) of each traceback werkzeug logs for an HTTP 500."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        lines = [line for line in record.getMessage().splitlines() if line.strip()]
        if lines:
            self.errors.append(lines[-1].strip())


class Emulator:
    """moto's server in this process, on 127.0.0.1 and a port the OS picks."""

    def __init__(self) -> None:
        self._server: Any = None
        self._clients: dict[str, Any] = {}
        self._errors = _InternalErrors()
        self.port = 0

    def start(self) -> Emulator:
        moto_fixes.apply()
        # One log line per request, and one per unsupported resource type each time moto parses a
        # template; what was skipped is read back from the API instead (`skipped_resources`).
        # HTTP 500 tracebacks: kept for `internal_errors` rather than printed.
        werkzeug = logging.getLogger("werkzeug")
        werkzeug.setLevel(logging.ERROR)
        werkzeug.addHandler(self._errors)
        werkzeug.propagate = False
        logging.getLogger("moto").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)
        # Port 0: the OS picks a free port and the server holds it from the start (no race).
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        logging.getLogger("werkzeug").removeHandler(self._errors)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """The address the server is bound to."""
        host, port = self._server.get_host_and_port()
        return (str(host), int(port))

    @property
    def endpoint(self) -> str:
        # `localhost`, not 127.0.0.1, although the server listens on 127.0.0.1 only: moto's
        # CloudFormation takes a TemplateURL's bucket from the URL path only for localhost and
        # amazonaws.com hosts. For http://127.0.0.1:PORT/bucket/key it reads the bucket "127",
        # and every `cdk deploy` fails with NoSuchBucket.
        return f"http://localhost:{self.port}"

    @property
    def internal_errors(self) -> list[str]:
        """The exceptions behind the emulator's HTTP 500 answers so far, oldest first."""
        return list(self._errors.errors)

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Variables for a child process (the CDK CLI) that must reach this emulator and no AWS."""
        source = os.environ if base is None else base
        env = {k: v for k, v in source.items() if not k.startswith("AWS_")}
        env.update(cli_environment())
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_ACCESS_KEY_ID=DUMMY_CREDENTIAL,
            AWS_SECRET_ACCESS_KEY=DUMMY_CREDENTIAL,
            AWS_REGION=REGION,
            AWS_DEFAULT_REGION=REGION,
            # No profile, SSO cache or instance role can lend real credentials.
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            AWS_EC2_METADATA_DISABLED="true",
        )
        no_proxy = ",".join(filter(None, [env.get("NO_PROXY", ""), "localhost", "127.0.0.1"]))
        env["NO_PROXY"] = env["no_proxy"] = no_proxy
        return env

    def client(self, service: str) -> Any:
        """A boto3 client for the emulator that ignores AWS_PROFILE and ~/.aws entirely."""
        if service not in self._clients:
            self._clients[service] = self._new_client(service)
        return self._clients[service]

    def _new_client(self, service: str) -> Any:
        config = Config(retries={"max_attempts": 2}, s3={"addressing_style": "path"})
        return self.session().client(service, endpoint_url=self.endpoint, config=config)

    def session(self) -> Any:
        """A boto3 session with the dummy credentials that ignores AWS_PROFILE and ~/.aws; its
        clients need `endpoint_url=self.endpoint` to reach the emulator."""
        core = botocore.session.Session(
            session_vars={
                "profile": (None, None, None, None),
                "config_file": (None, None, os.devnull, None),
                "credentials_file": (None, None, os.devnull, None),
            }
        )
        return boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIAL,
            aws_secret_access_key=DUMMY_CREDENTIAL,
            region_name=REGION,
            botocore_session=core,
        )


def cli_environment() -> dict[str, str]:
    """The pinned Node.js 22 and CDK CLI first on PATH, and no network calls of the CLI's own."""
    return {
        "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
    }


class CdkProcess:
    """One CDK CLI command, started at once; `result()` waits for it.

    Output (the CLI writes to both streams) is collected, and each line goes to `on_line` as it
    comes, so long commands can report progress.
    """

    def __init__(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        timeout: float = SYNTH_TIMEOUT_SECONDS,
        on_line: Callable[[str], None] | None = None,
    ) -> None:
        self.command = [str(CDK), *args, "--no-notices"]
        self._lines: list[str] = []
        self._on_line = on_line
        self._timed_out = threading.Event()
        self._process = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.append(line)
            if self._on_line is not None:
                self._on_line(line.rstrip("\n"))

    def _expire(self) -> None:
        self._timed_out.set()
        self._process.kill()

    def result(self) -> str:
        """The command's output; raises `CdkError` if it failed or timed out."""
        try:
            returncode = self._process.wait()
        except BaseException:  # Ctrl-C or SIGTERM: no CLI may outlive the emulator it talks to
            self.kill()
            raise
        self._timer.cancel()
        self._reader.join()
        output = "".join(self._lines)
        if self._timed_out.is_set():
            raise CdkError(self.command, None, output)
        if returncode != 0:
            raise CdkError(self.command, returncode, output)
        return output

    def kill(self) -> None:
        self._timer.cancel()
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def cdk_json_with(context: dict[str, Any], app: list[str]) -> dict[str, Any]:
    """cdk.json as the repository has it, with `context` and an app command runnable elsewhere:
    `app` follows the interpreter (`[*app_flags(), str(REPO / "app.py")]` runs app.py as cdk.json
    does)."""
    cdk_json: dict[str, Any] = json.loads((REPO / "cdk.json").read_text())
    cdk_json["app"] = shlex.join([sys.executable, *app])
    cdk_json["context"] = context
    return cdk_json


def start_synth(
    app_dir: Path,
    outdir: Path,
    *,
    environment: str = ENVIRONMENT,
    on_line: Callable[[str], None] | None = None,
) -> CdkProcess:
    """`cdk synth` of one environment of the app whose cdk.json is in `app_dir`, into `outdir`.

    A folder of its own, never the repository's cdk.out: `make synth` empties that one.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(cli_environment())
    return CdkProcess(
        ["synth", "-c", f"env={environment}", "--quiet", "--output", str(outdir)],
        cwd=app_dir,
        env=env,
        on_line=on_line,
    )


def bootstrap(emulator: Emulator, workdir: Path) -> str:
    # Run outside the app's folder: inside it the CLI first synthesizes every environment of the
    # app (about 15 s) only to learn which environments exist, and this one is named explicitly.
    return CdkProcess(
        ["bootstrap", f"aws://{ACCOUNT}/{REGION}"], cwd=workdir, env=emulator.environment()
    ).result()


def deploy(
    emulator: Emulator, assembly: CloudAssembly, *, on_line: Callable[[str], None] | None = None
) -> str:
    """`cdk deploy` of every stack of `assembly`, as synthesized (no second synth)."""
    return CdkProcess(
        ["deploy", "--app", str(assembly.directory), ALL_STACKS, *DEPLOY_FLAGS],
        cwd=assembly.directory,
        env=emulator.environment(),
        timeout=DEPLOY_TIMEOUT_SECONDS,
        on_line=on_line,
    ).result()


def destroy(
    emulator: Emulator, assembly: CloudAssembly, *, on_line: Callable[[str], None] | None = None
) -> str:
    """`cdk destroy --force` of every stack of `assembly`, as `make destroy` runs it.

    The CLI deletes in the reverse of the deployment order and waits for each stack's deletion;
    moto deletes synchronously and answers a failed one with the error (tools/dev/moto_fixes.py).
    """
    return CdkProcess(
        ["destroy", "--app", str(assembly.directory), ALL_STACKS, *DESTROY_FLAGS],
        cwd=assembly.directory,
        env=emulator.environment(),
        timeout=DEPLOY_TIMEOUT_SECONDS,
        on_line=on_line,
    ).result()


# What `leftovers` looks for, in the order it reports them.
LEFTOVER_KINDS = (
    "stacks",
    "VPCs",
    "subnets",
    "route tables",
    "internet gateways",
    "NAT gateways",
    "VPC endpoints",
    "security groups",
    "network interfaces",
    "instances",
    "flow logs",
    "launch templates",
    "Auto Scaling groups",
    "load balancers",
    "target groups",
    "IAM roles",
    "IAM managed policies",
    "instance profiles",
    "KMS keys",
    "S3 buckets",
    "log groups",
    "SNS topics",
    "CloudWatch alarms",
    "CloudWatch dashboards",
)


def leftovers(emulator: Emulator) -> dict[str, list[str]]:
    """Kind -> IDs of what the emulator holds besides the bootstrap stack and its own defaults.

    Empty lists for every kind of `LEFTOVER_KINDS` after a complete teardown. Kept out: the
    bootstrap stack and the resources it lists, the default VPC with its subnets, route table,
    gateway and group, and what AWS itself shows for a while after deletion: keys pending
    deletion, terminated instances, deleted NAT gateways and endpoints. (The `instances` are the
    Auto Scaling group's instance records: moto boots nothing.)
    """
    client = emulator.client
    cloudformation = client("cloudformation")
    summaries = cloudformation.list_stacks()["StackSummaries"]
    stacks = [
        f"{s['StackName']} ({s['StackStatus']})"
        for s in summaries
        if s["StackStatus"] != "DELETE_COMPLETE" and s["StackName"] != BOOTSTRAP_STACK
    ]
    bootstrapped = any(
        s["StackName"] == BOOTSTRAP_STACK and s["StackStatus"] != "DELETE_COMPLETE"
        for s in summaries
    )
    kept = (
        {r.physical_id for r in stack_resources(emulator, BOOTSTRAP_STACK).values()}
        if bootstrapped
        else set()
    )

    ec2 = client("ec2")
    default_vpcs = {v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault")}

    def outside_default_vpc(items: list[dict[str, Any]], id_key: str) -> list[str]:
        return [str(i[id_key]) for i in items if i.get("VpcId") not in default_vpcs]

    gateways = [
        g["InternetGatewayId"]
        for g in ec2.describe_internet_gateways()["InternetGateways"]
        if not {a["VpcId"] for a in g.get("Attachments", [])} & default_vpcs
    ]
    instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    # moto keeps a terminated instance's primary interface, attached; EC2 deletes the interface
    # it created at launch with the instance (DeleteOnTermination is true for it by default).
    terminated = {
        i["InstanceId"] for i in instances if i["State"]["Name"] in ("shutting-down", "terminated")
    }
    keys = []
    kms = client("kms")
    for key in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
        if metadata["KeyState"] != "PendingDeletion" and key["KeyId"] not in kept:
            keys.append(str(key["KeyId"]))
    alarms = client("cloudwatch").describe_alarms(AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    found = {
        "stacks": stacks,
        "VPCs": outside_default_vpc(ec2.describe_vpcs()["Vpcs"], "VpcId"),
        "subnets": outside_default_vpc(ec2.describe_subnets()["Subnets"], "SubnetId"),
        "route tables": outside_default_vpc(
            ec2.describe_route_tables()["RouteTables"], "RouteTableId"
        ),
        "internet gateways": gateways,
        "NAT gateways": [
            g["NatGatewayId"]
            for g in ec2.describe_nat_gateways()["NatGateways"]
            if g["State"] not in ("deleting", "deleted")
        ],
        "VPC endpoints": [
            e["VpcEndpointId"]
            for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
            if e["State"].lower() != "deleted"
        ],
        "security groups": outside_default_vpc(
            ec2.describe_security_groups()["SecurityGroups"], "GroupId"
        ),
        "network interfaces": outside_default_vpc(
            [
                interface
                for interface in ec2.describe_network_interfaces()["NetworkInterfaces"]
                if interface.get("Attachment", {}).get("InstanceId") not in terminated
            ],
            "NetworkInterfaceId",
        ),
        "instances": [i["InstanceId"] for i in instances if i["InstanceId"] not in terminated],
        "flow logs": [f["FlowLogId"] for f in ec2.describe_flow_logs()["FlowLogs"]],
        "launch templates": [
            t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]
        ],
        "Auto Scaling groups": [
            g["AutoScalingGroupName"]
            for g in client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
        ],
        "load balancers": [
            b["LoadBalancerName"]
            for b in client("elbv2").describe_load_balancers()["LoadBalancers"]
        ],
        "target groups": [
            g["TargetGroupName"] for g in client("elbv2").describe_target_groups()["TargetGroups"]
        ],
        "IAM roles": [
            r["RoleName"]
            for r in client("iam").list_roles()["Roles"]
            if r["RoleName"] not in kept and not r["Path"].startswith("/aws-service-role/")
        ],
        "IAM managed policies": [
            p["PolicyName"]
            for p in client("iam").list_policies(Scope="Local")["Policies"]
            if p["Arn"] not in kept
        ],
        "instance profiles": [
            p["InstanceProfileName"]
            for p in client("iam").list_instance_profiles()["InstanceProfiles"]
            if p["InstanceProfileName"] not in kept
        ],
        "KMS keys": keys,
        "S3 buckets": [
            b["Name"] for b in client("s3").list_buckets()["Buckets"] if b["Name"] not in kept
        ],
        "log groups": [
            g["logGroupName"] for g in client("logs").describe_log_groups()["logGroups"]
        ],
        "SNS topics": [t["TopicArn"] for t in client("sns").list_topics()["Topics"]],
        "CloudWatch alarms": [
            a["AlarmName"] for kind in ("MetricAlarms", "CompositeAlarms") for a in alarms[kind]
        ],
        "CloudWatch dashboards": [
            d["DashboardName"] for d in client("cloudwatch").list_dashboards()["DashboardEntries"]
        ],
    }
    return {kind: sorted(found[kind]) for kind in LEFTOVER_KINDS}


def diff(emulator: Emulator, assembly: CloudAssembly) -> str:
    """`cdk diff` of `assembly` against what the emulator runs.

    A template diff: the default creates a change set per stack, which moto answers slowly and the
    CLI then abandons ("Could not create a change set") after about 50 s.
    """
    return CdkProcess(
        ["diff", "--app", str(assembly.directory), ALL_STACKS, "--method=template"],
        cwd=assembly.directory,
        env=emulator.environment(),
    ).result()


@dataclass(frozen=True)
class DeployedResource:
    logical_id: str
    resource_type: str
    physical_id: str


def stack_resources(emulator: Emulator, stack_name: str) -> dict[str, DeployedResource]:
    """What DescribeStackResources lists for a stack, by logical ID.

    moto lists a resource type it does not support as an entry without logical ID or type; those
    are absent here, see `skipped_resources`.
    """
    cloudformation = emulator.client("cloudformation")
    entries = cloudformation.describe_stack_resources(StackName=stack_name)["StackResources"]
    return {
        entry["LogicalResourceId"]: DeployedResource(
            logical_id=entry["LogicalResourceId"],
            resource_type=entry["ResourceType"],
            physical_id=entry.get("PhysicalResourceId") or "",
        )
        for entry in entries
        if "LogicalResourceId" in entry and "ResourceType" in entry
    }


def skipped_resources(emulator: Emulator, stack: Stack) -> dict[str, str]:
    """Logical ID -> type of each resource in the template that the emulator did not deploy."""
    deployed = stack_resources(emulator, stack.stack_name)
    return {
        logical_id: resource_type
        for logical_id, resource_type in stack.resource_types.items()
        if logical_id not in deployed and resource_type not in NOT_AWS_RESOURCES
    }


_FAILED_STACK = re.compile(r"❌\s+(?:\S+ \()?(?P<name>[A-Za-z][-A-Za-z0-9]*)\)?\s+failed")
_UNDEFINED_RESOURCE = re.compile(r"references undefined resource (?P<logical_id>\w+)")


def explain_deploy_failure(emulator: Emulator, assembly: CloudAssembly, error: CdkError) -> str:
    """Which stack failed, which resource, and the emulator's reason, from the CLI and the API."""
    # Only errors of the deploy itself: describing a half-created stack below may add more.
    internal_errors = emulator.internal_errors
    statuses = stack_statuses(emulator, assembly)
    if error.returncode is None:
        return _explain_timeout(assembly, statuses)

    named = [m.group("name") for m in _FAILED_STACK.finditer(error.output)]
    failed = next((name for name in named if name in assembly.stack_names), None)
    if failed is None:
        # The CLI named none: the first stack, in deployment order, that is not complete.
        unfinished = [
            name
            for name in assembly.stack_names
            if not _is_complete(statuses.get(name, ("not created", ""))[0])
        ]
        failed = unfinished[0] if unfinished else None
    lines = [f"stack:    {failed or 'unknown (the CLI failed before deploying a stack)'}"]
    reason = _cli_reason(error.output)
    if failed is not None:
        stack = assembly.stack(failed)
        for event in _failed_events(emulator, failed):
            lines.append(
                f"resource: {event['LogicalResourceId']} ({event.get('ResourceType', '?')})"
            )
            reason = event.get("ResourceStatusReason") or reason
            break
        else:
            undefined = _UNDEFINED_RESOURCE.search(reason)
            if undefined is not None:
                logical_id = undefined.group("logical_id")
                resource_type = stack.resource_types.get(logical_id, "?")
                lines.append(f"resource: {logical_id} ({resource_type})")
                lines.append(
                    "          moto calls a resource it failed to create 'undefined'; its own "
                    "error is swallowed, so creating this resource type is what broke"
                )
    lines.append(f"emulator: {reason or 'no reason given; see the CLI output above'}")
    for internal in internal_errors[-3:]:
        lines.append(f"          internal error: {internal}")
    lines.append("stacks:   " + _status_summary(assembly, statuses))
    return "\n".join(lines)


def stack_statuses(emulator: Emulator, assembly: CloudAssembly) -> dict[str, tuple[str, str]]:
    """Stack name -> (status, reason) of each stack of `assembly` that exists in the emulator."""
    cloudformation = emulator.client("cloudformation")
    statuses: dict[str, tuple[str, str]] = {}
    for name in assembly.stack_names:
        try:
            described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        except ClientError:
            continue  # never created
        except (BotoCoreError, ResponseParserError):
            # moto keeps a stack whose creation raised, and answers HTTP 500 for it ever after.
            statuses[name] = ("UNREADABLE (emulator error)", "")
            continue
        statuses[name] = (described["StackStatus"], described.get("StackStatusReason") or "")
    return statuses


def _is_complete(status: str) -> bool:
    return status.endswith("_COMPLETE") and "ROLLBACK" not in status


def _failed_events(emulator: Emulator, stack_name: str) -> list[dict[str, Any]]:
    cloudformation = emulator.client("cloudformation")
    try:
        events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
    except (ClientError, BotoCoreError, ResponseParserError):
        return []
    return [
        event
        for event in events
        if str(event.get("ResourceStatus", "")).endswith("FAILED")
        and event.get("LogicalResourceId") != stack_name
    ]


def _cli_reason(output: str) -> str:
    """The CLI's error after its ❌ line: the lines that start with ‣, and their continuations."""
    lines = output.splitlines()
    for index, line in enumerate(lines):
        if "❌" not in line:
            continue
        reason: list[str] = []
        for following in lines[index + 1 :]:
            if not following.strip():
                break
            reason.append(following.strip().lstrip("‣").strip())
        if reason:
            return " ".join(reason)
    tail = [line.strip() for line in lines if line.strip()]
    return tail[-1] if tail else ""


def _status_summary(assembly: CloudAssembly, statuses: Mapping[str, tuple[str, str]]) -> str:
    return ", ".join(
        f"{name} {statuses[name][0] if name in statuses else 'not created'}"
        for name in assembly.stack_names
    )


def _explain_timeout(assembly: CloudAssembly, statuses: Mapping[str, tuple[str, str]]) -> str:
    waiting = [name for name, (status, _) in statuses.items() if status.endswith("IN_PROGRESS")]
    lines = [f"stack:    {', '.join(waiting) or 'unknown'}"]
    for name in waiting:
        custom = {
            logical_id: resource_type
            for logical_id, resource_type in assembly.stack(name).resource_types.items()
            if CUSTOM_RESOURCE.match(resource_type)
        }
        for logical_id, resource_type in custom.items():
            lines.append(f"resource: {logical_id} ({resource_type})")
    lines.append(
        f"emulator: no answer within {DEPLOY_TIMEOUT_SECONDS} s. moto cannot run Lambda "
        "functions, so a Lambda-backed custom resource never completes; the local environment "
        "must switch those features off (see restrictDefaultSecurityGroup and "
        "ensureServiceLinkedRole in cdk.json)"
    )
    lines.append("stacks:   " + _status_summary(assembly, statuses))
    return "\n".join(lines)
