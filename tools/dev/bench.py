"""`make bench`: how long the inner loop takes (synth, tests) and how close each stack is to quotas.

One run measures, with repeated samples (median, min, max):
  1. two floors, both `cdk synth` of an app with one empty stack, run as cdk.json runs app.py
     (same interpreter flags, aws-cdk-lib's built-in template validation off, as app.py has it):
     the CLI floor imports only aws_cdk; the import floor first imports exactly the modules the
     app imports (tools/bytecode.py's list), so what the full synth adds above it is building and
     synthesizing the constructs. For reference, a bare Python process that imports aws_cdk and
     synthesizes an empty App;
  2. `cdk synth` of the whole app through the real CLI (every environment, the pipeline, cdk-nag),
     and the same with the venv's bytecode absent (what every synth cost before `make setup`
     compiled it, where PYTHONDONTWRITEBYTECODE=1);
  3. the same without the cdk-nag packs, and with jsii's runtime type checks on (no `-O`): a
     bench-only entry point, `python -m tools.dev.bench app`, that calls app.py's own `main()`;
     and `make cfn-guard`'s command over the full synth's cdk.out;
  4. scale: synth wall time and peak memory for 1, 4, 16 and 32 generated environments;
  5. the unit suite (`make unit`'s selection), each component's test file run alone
     (`pytest constructs_lib/<component>/tests/<file>`), and `make test` on the ready tree;
  6. per stack: resources, outputs, exports, parameters and template bytes against the
     CloudFormation quotas.
It prints one Markdown report and writes it to docs/benchmarks.md.

Wall time is what a person waits; CPU time (user + system of the whole process tree) is less
sensitive to other load on the machine, so both are reported. Peak memory is the sum of the resident
set of every process of the tree (sampled from /proc), and the largest single process (ru_maxrss).

QUICK=1 (or --quick) takes one sample of each and skips `make test`.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.bytecode import APP_MODULES, app_flags
from tools.cloud_assembly import Stack, read

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "docs" / "benchmarks.md"
NODE_BIN = ROOT / "node_modules" / ".bin"
PYTHON = sys.executable

SAMPLES = 3
SCALE_POINTS = (1, 4, 16, 32)
SCALE_SAMPLES = 2
# Scale configs: one /16 per environment from here on, none overlapping the committed ones.
SCALE_CIDR_BASE = 100
PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024

# CloudFormation quotas per stack (1,000,000 bytes is what cfn-lint checks for an S3 template).
QUOTAS = {"resources": 500, "outputs": 200, "parameters": 200, "bytes": 1_000_000}

# Targets of issue 15 (the floor: the CLI on one empty stack, with app.py's settings) and of
# issue 25 (the import floor: the same, importing every module the app imports).
FULL_SYNTH_MAX_RATIO = 1.8
FULL_SYNTH_MAX_IMPORT_RATIO = 2.0
PER_ENVIRONMENT_MAX_SECONDS = 0.15
PER_ENVIRONMENT_MAX_MIB = 10.0
UNIT_SUITE_MAX_SYNTHS = 3.0
TEST_FILE_ALONE_MAX_SECONDS = 5.0
MAKE_TEST_MAX_SECONDS = 60.0
QUOTA_MAX_SHARE = 0.5

FLOOR_PROGRAM = "import aws_cdk as cdk\ncdk.App().synth()\n"
# The CLI refuses an app without stacks ("This app contains no stacks"). The same settings as
# app.py: aws-cdk-lib's built-in template validation off.
ONE_EMPTY_STACK_PROGRAM = (
    "import aws_cdk as cdk\n"
    "app = cdk.App(builtin_cloud_formation_validation=False)\n"
    'cdk.Stack(app, "Empty")\n'
    "app.synth()\n"
)


def import_floor_program() -> str:
    """One empty stack, after importing exactly what the app imports (tools/bytecode.py)."""
    return (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        f"for name in {APP_MODULES!r}:\n"
        "    importlib.import_module(name)\n" + ONE_EMPTY_STACK_PROGRAM
    )


def app_interpreter() -> list[str]:
    """The interpreter and its flags as cdk.json's `app` starts app.py (`-O`, say)."""
    return [PYTHON, *app_flags()]


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    tree_rss: int
    max_rss: int
    returncode: int
    output: str


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants every `interval` seconds."""

    def __init__(self, root: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, _tree_rss(self.root))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _tree_rss(root: int) -> int:
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:
            continue
        # The command name may contain spaces and parentheses: split after the last ")".
        fields = stat[stat.rfind(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * PAGE
    tree = {root}
    changed = True
    while changed:
        before = len(tree)
        tree |= {pid for pid, parent in parents.items() if parent in tree}
        changed = len(tree) != before
    return sum(rss.get(pid, 0) for pid in tree)


def measure(command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Run:
    with tempfile.TemporaryFile("w+") as log:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT
        )
        sampler = TreeSampler(process.pid)
        sampler.start()
        # wait4 gives the rusage of this child and every descendant it waited for.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        sampler.stop()
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read()
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        tree_rss=sampler.peak,
        max_rss=usage.ru_maxrss * 1024,
        returncode=process.returncode,
        output=output,
    )


def child_environment() -> dict[str, str]:
    """The Makefile's environment: the pinned Node 22 first, no network at synth."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CDK_CONTEXT_JSON", "CDK_OUTDIR", "CONTEXT_OVERFLOW_LOCATION_ENV"}
    }
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CDK_DISABLE_CLI_TELEMETRY"] = "true"
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    if (NODE_BIN / "node").exists():
        env["JSII_NODE"] = str(NODE_BIN / "node")
    return env


@dataclass
class Scenario:
    key: str
    title: str
    command: Callable[[Path], list[str]]
    cwd: Path = ROOT
    # Added to the Makefile's environment for this scenario only.
    env: Mapping[str, str] = field(default_factory=dict)
    runs: list[Run] = field(default_factory=list)

    def stat(self, pick: Callable[[Run], float]) -> tuple[float, float, float]:
        values = [pick(r) for r in self.runs]
        return statistics.median(values), min(values), max(values)

    @property
    def wall(self) -> float:
        return self.stat(lambda r: r.wall)[0]

    @property
    def cpu(self) -> float:
        return self.stat(lambda r: r.cpu)[0]

    @property
    def tree_mib(self) -> float:
        return self.stat(lambda r: r.tree_rss / MIB)[0]


def cdk_synth(*extra: str) -> Callable[[Path], list[str]]:
    def command(outdir: Path) -> list[str]:
        cdk = str(NODE_BIN / "cdk")
        # '**' as `make synth` passes it: every stack, those of nested stages included.
        return [cdk, "synth", "--no-notices", "--quiet", "-o", str(outdir), *extra, "**"]

    return command


def bench_app(*interpreter_and_flags: str) -> str:
    """The bench-only entry point; the interpreter (and its flags) first, then bench's flags."""
    interpreter = [a for a in interpreter_and_flags if a == PYTHON or a.startswith("-O")]
    flags = [a for a in interpreter_and_flags if a not in interpreter]
    return shlex.join([*interpreter, "-m", "tools.dev.bench", "app", *flags])


def run_samples(scenarios: Sequence[Scenario], samples: int, work: Path) -> None:
    """Round-robin over the scenarios, so drifting background load hits each of them alike."""
    env = child_environment()
    for sample in range(samples):
        for scenario in scenarios:
            outdir = work / f"{scenario.key}-{sample}"
            run = measure(scenario.command(outdir), cwd=scenario.cwd, env={**env, **scenario.env})
            if run.returncode != 0:
                raise RuntimeError(f"{scenario.title} failed:\n{run.output[-4000:]}")
            scenario.runs.append(run)
            print(
                f"  {scenario.title}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, "
                f"{run.tree_rss / MIB:.0f} MiB",
                file=sys.stderr,
            )


def cdk_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())
    return data


def scaled_context(count: int) -> dict[str, Any]:
    """cdk.json's context with `count` environments cycled from the committed ones.

    Each gets its own non-overlapping /16 and a valid name; the pipeline is left out, so the slope
    is the cost of an environment (the pipeline's fixed cost is in the full synth).
    """
    context: dict[str, Any] = copy.deepcopy(cdk_json()["context"])
    templates = [v for _, v in sorted(context["environments"].items())]
    environments = {}
    for index in range(count):
        environment = copy.deepcopy(templates[index % len(templates)])
        environment["network"]["vpcCidr"] = f"10.{SCALE_CIDR_BASE + index}.0.0/16"
        # One domain per environment: give each copy its own name in the same zone.
        if domain := environment.get("edge", {}).get("domain"):
            domain["name"] = f"scale{index + 1:02d}.{domain['hostedZoneName']}"
        environments[f"scale{index + 1:02d}"] = environment
    context["environments"] = environments
    context.pop("pipeline", None)
    return context


def scale_scenarios(work: Path) -> list[Scenario]:
    scenarios = []
    for count in SCALE_POINTS:
        project = work / f"scale-{count}"
        project.mkdir(parents=True)
        config = {
            "app": shlex.join([*app_interpreter(), str(ROOT / "app.py")]),
            "notices": False,
            "cli-telemetry": False,
            "context": scaled_context(count),
        }
        (project / "cdk.json").write_text(json.dumps(config, indent=1))
        # The committed lookups (S3 prefix lists), as the CLI reads them beside cdk.json.
        shutil.copyfile(ROOT / "cdk.context.json", project / "cdk.context.json")
        scenarios.append(
            Scenario(f"scale{count}", f"{count} environment(s)", cdk_synth(), cwd=project)
        )
    return scenarios


def slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    numerator = sum((x - mean_x) * (y - mean_y) for x, y in points)
    denominator = sum((x - mean_x) ** 2 for x, _ in points)
    return numerator / denominator


@dataclass(frozen=True)
class Suite:
    title: str
    run: Run | None
    summary: str


def pytest_summary(output: str) -> str:
    """The result line of every pytest session in the output ("12 passed in 3.1s"), joined."""
    results = [
        line.strip("= ")
        for line in output.splitlines()
        if line.startswith("=") and re.search(r" in [0-9.]+s\b", line)
    ]
    if results:
        return "; ".join(results)
    return output.strip().splitlines()[-1] if output.strip() else ""


def passed(run: Run) -> bool:
    """A test command that failed gives no time to compare with a target."""
    return run.returncode == 0


def run_suite(title: str, arguments: Sequence[str]) -> Suite:
    return run_tests(title, [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *arguments])


def run_tests(title: str, command: Sequence[str]) -> Suite:
    """Times a test command once; its summary is pytest's result lines, after a failing status."""
    run = measure(command, cwd=ROOT, env=child_environment())
    summary = pytest_summary(run.output)
    if run.returncode not in (0, 5):
        summary = f"exit status {run.returncode}: {summary}"
    print(f"  {title}: {run.wall:.1f} s ({summary})", file=sys.stderr)
    # pytest exits 5 when it collected no test: then there is nothing to time.
    return Suite(title, None if run.returncode == 5 else run, summary)


@dataclass(frozen=True)
class StackSize:
    stack: Stack
    resources: int
    outputs: int
    exports: int
    parameters: int

    @classmethod
    def of(cls, stack: Stack) -> StackSize:
        outputs = stack.template.get("Outputs", {})
        return cls(
            stack=stack,
            resources=len(stack.template.get("Resources", {})),
            outputs=len(outputs),
            exports=sum(1 for o in outputs.values() if "Export" in o),
            parameters=len(stack.template.get("Parameters", {})),
        )

    @property
    def shares(self) -> dict[str, float]:
        return {
            "resources": self.resources / QUOTAS["resources"],
            "outputs": self.outputs / QUOTAS["outputs"],
            "parameters": self.parameters / QUOTAS["parameters"],
            "bytes": self.stack.template_bytes / QUOTAS["bytes"],
        }


def versions() -> str:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "?"

    node = subprocess.run(
        [str(NODE_BIN / "node"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    cli = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())["version"]
    return (
        f"Python {platform.python_version()}, Node.js {node}, aws-cdk-lib {version('aws-cdk-lib')},"
        f" cdk-nag {version('cdk-nag')}, aws-cdk CLI {cli}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def seconds(scenario: Scenario) -> str:
    median, low, high = scenario.stat(lambda r: r.wall)
    return f"{median:.2f} ({low:.2f}\u2013{high:.2f})"


def report(
    *,
    floor: Scenario,
    synths: Sequence[Scenario],
    scale: Sequence[Scenario],
    unit: Suite,
    alone: Sequence[Suite],
    make_test: Suite | None,
    sizes: Sequence[StackSize],
    samples: int,
    started: datetime,
    load: tuple[float, float],
    elapsed: float,
) -> str:
    full = next(s for s in synths if s.key == "full")
    imports = next(s for s in synths if s.key == "importfloor")
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `make bench` (tools/dev/bench.py) on {started:%Y-%m-%d %H:%M} UTC: "
        f"{os.cpu_count()} cores, load average {load[0]:.1f} before and {load[1]:.1f} after, "
        f"{samples} sample(s) per synth row after one warm-up, {elapsed:.0f} s in all. "
        f"{versions()}.",
        "",
        "Wall time is the median (min\u2013max) of the samples. CPU is user + system time of the "
        "whole process tree, which other load on the machine disturbs less than wall time. "
        "Peak memory is the summed RSS of the process tree (sampled every 50 ms); the largest "
        "single process is in brackets.",
        "",
        "How the rows are made: the CLI floor is the real CLI (`cdk synth --quiet '**'`, Node.js"
        " 22 from node_modules) on an app with one empty stack, started with the interpreter flags"
        " of cdk.json's `app` and aws-cdk-lib's built-in template validation off, as app.py runs"
        " (the CLI refuses an app without stacks). The import floor is the same app after"
        f" importing exactly the modules the app imports (`{', '.join(APP_MODULES)}`, the list"
        " tools/bytecode.py compiles): the full synth's time above it is building and"
        " synthesizing the constructs. The bare-Python row (`import aws_cdk as cdk;"
        " cdk.App().synth()`, no CLI) is kept for reference. Every other synth runs the real CLI"
        " as `make synth` does. The bytecode-absent row points Python at an empty bytecode cache"
        " (`PYTHONPYCACHEPREFIX`, with `PYTHONDONTWRITEBYTECODE=1`): every module is compiled"
        " again, as on this machine before `make setup` wrote the bytecode. The rows without"
        " cdk-nag or without `-O` use a bench-only entry point (`python -m tools.dev.bench app`)"
        " that patches `stacks.factory` and then runs app.py's own `main()`, so each differs from"
        " `cdk synth` in that one thing (without `-O`, Python reads the `.pyc` that `make setup`"
        " writes for the tests). The cfn-guard row is `make cfn-guard`'s command over the full"
        " synth's cdk.out (not a synth: its ratios only compare)."
        " The scale rows use a temporary cdk.json whose environments are the committed ones cycled"
        f" under new names (`scale01`...), each with its own /16 from 10.{SCALE_CIDR_BASE}.0.0 on,"
        " and no pipeline.",
        "",
        "## Synth",
        "",
        "| what | wall s | CPU s | \u00d7 CLI floor (wall) | \u00d7 import floor (wall) "
        "| \u00d7 import floor (CPU) | peak MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for scenario in (floor, *synths):
        peak = scenario.stat(lambda r: r.tree_rss / MIB)[0]
        largest = scenario.stat(lambda r: r.max_rss / MIB)[0]
        lines.append(
            f"| {scenario.title} | {seconds(scenario)} | {scenario.cpu:.2f} | "
            f"{scenario.wall / floor.wall:.2f} | {scenario.wall / imports.wall:.2f} | "
            f"{scenario.cpu / imports.cpu:.2f} | {peak:.0f} ({largest:.0f}) |"
        )

    lines += [
        "",
        "## Scale: generated environments (`cdk synth`, pipeline left out)",
        "",
        "| environments | stacks | wall s | CPU s | \u00d7 floor (wall) | peak MiB |",
        "|---|---|---|---|---|---|",
    ]
    for count, scenario in zip(SCALE_POINTS, scale, strict=True):
        peak = scenario.stat(lambda r: r.tree_rss / MIB)[0]
        largest = scenario.stat(lambda r: r.max_rss / MIB)[0]
        lines.append(
            f"| {count} | {3 * count} | {seconds(scenario)} | {scenario.cpu:.2f} | "
            f"{scenario.wall / floor.wall:.2f} | {peak:.0f} ({largest:.0f}) |"
        )
    per_env_wall = slope([(n, s.wall) for n, s in zip(SCALE_POINTS, scale, strict=True)])
    per_env_cpu = slope([(n, s.cpu) for n, s in zip(SCALE_POINTS, scale, strict=True)])
    per_env_mib = slope([(n, s.tree_mib) for n, s in zip(SCALE_POINTS, scale, strict=True)])
    lines += [
        "",
        f"Per added environment (least-squares slope over {', '.join(map(str, SCALE_POINTS))}): "
        f"**{per_env_wall:.3f} s wall**, {per_env_cpu:.3f} s CPU, **{per_env_mib:.1f} MiB**.",
        "",
        "## Tests",
        "",
        "| suite | wall s | CPU s | \u00d7 one full synth | result |",
        "|---|---|---|---|---|",
    ]
    for suite in [unit, *([make_test] if make_test else [])]:
        if suite.run is None:
            lines.append(f"| {suite.title} | \u2013 | \u2013 | \u2013 | {suite.summary} |")
            continue
        lines.append(
            f"| {suite.title} | {suite.run.wall:.1f} | {suite.run.cpu:.1f} | "
            f"{suite.run.wall / full.wall:.2f} | {suite.summary} |"
        )
    lines += [
        "",
        "### One test file alone",
        "",
        "Each test file of a component, run alone on the ready tree as a developer runs it "
        "(`pytest <file>`): interpreter start, imports and collection included.",
        "",
        "| file | wall s | CPU s | result |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {s.title} | {s.run.wall:.1f} | {s.run.cpu:.1f} | {s.summary} |"
        for s in alone
        if s.run is not None
    ]
    timed = [(s.title, s.run.wall) for s in alone if s.run is not None and passed(s.run)]
    slowest = max(timed, key=lambda t: t[1], default=None)
    all_passed = len(timed) == len(alone)

    lines += [
        "",
        "## Stacks against the CloudFormation quotas",
        "",
        "Every stack of the assembly (a stage deployed both directly and by the pipeline is one "
        "stack). Quotas: 500 resources, 200 outputs, 200 parameters, 1,000,000 template bytes.",
        "",
        "| stack | resources | outputs (exports) | parameters | template bytes | highest use |",
        "|---|---|---|---|---|---|",
    ]
    for size in sorted(sizes, key=lambda s: s.stack.stack_name):
        shares = size.shares
        worst = max(shares, key=lambda k: shares[k])
        lines.append(
            f"| {size.stack.stack_name} | {size.resources} ({shares['resources']:.0%}) | "
            f"{size.outputs} ({size.exports}) ({shares['outputs']:.0%}) | "
            f"{size.parameters} ({shares['parameters']:.0%}) | "
            f"{size.stack.template_bytes:,} ({shares['bytes']:.1%}) | "
            f"{shares[worst]:.0%} {worst} |"
        )
    worst_share = max(max(s.shares.values()) for s in sizes)

    unit_run = unit.run
    unit_ok = (
        unit_run is not None
        and passed(unit_run)
        and unit_run.wall <= UNIT_SUITE_MAX_SYNTHS * full.wall
    )
    lines += [
        "",
        "## Targets (issues 15 and 25)",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        f"| full synth \u2264 {FULL_SYNTH_MAX_IMPORT_RATIO}\u00d7 the import floor (issue 25) | "
        f"{full.wall / imports.wall:.2f}\u00d7 wall, {full.cpu / imports.cpu:.2f}\u00d7 CPU | "
        f"{verdict(full.wall <= FULL_SYNTH_MAX_IMPORT_RATIO * imports.wall)} |",
        f"| full synth \u2264 {FULL_SYNTH_MAX_RATIO}\u00d7 the CLI floor (issue 15) | "
        f"{full.wall / floor.wall:.2f}\u00d7 wall, {full.cpu / floor.cpu:.2f}\u00d7 CPU | "
        f"{verdict(full.wall <= FULL_SYNTH_MAX_RATIO * floor.wall)} |",
        f"| each extra environment \u2264 {PER_ENVIRONMENT_MAX_SECONDS} s | "
        f"{per_env_wall:.3f} s wall, {per_env_cpu:.3f} s CPU | "
        f"{verdict(per_env_wall <= PER_ENVIRONMENT_MAX_SECONDS)} |",
        f"| each extra environment \u2264 {PER_ENVIRONMENT_MAX_MIB:.0f} MiB | "
        f"{per_env_mib:.1f} MiB | {verdict(per_env_mib <= PER_ENVIRONMENT_MAX_MIB)} |",
        f"| unit suite \u2264 {UNIT_SUITE_MAX_SYNTHS:.0f}\u00d7 one full synth | "
        + (f"{unit_run.wall / full.wall:.2f}\u00d7" if unit_run else "not run")
        + f" | {verdict(unit_ok)} |",
        f"| a component's test file alone < {TEST_FILE_ALONE_MAX_SECONDS:.0f} s | "
        + (
            f"slowest {slowest[1]:.1f} s ({slowest[0]})"
            + f" | {verdict(slowest[1] < TEST_FILE_ALONE_MAX_SECONDS and all_passed)} |"
            if slowest
            else "not run | \u2013 |"
        ),
        f"| `make test` on a ready tree \u2264 {MAKE_TEST_MAX_SECONDS:.0f} s | "
        + (
            f"{make_test.run.wall:.0f} s | "
            + f"{verdict(passed(make_test.run) and make_test.run.wall <= MAKE_TEST_MAX_SECONDS)} |"
            if make_test and make_test.run
            else "not run | \u2013 |"
        ),
        f"| every stack < {QUOTA_MAX_SHARE:.0%} of each quota | highest {worst_share:.0%} | "
        f"{verdict(worst_share < QUOTA_MAX_SHARE)} |",
        "",
    ]
    return "\n".join(lines)


def run_app(*, nag: bool) -> int:
    """app.py's own `main()`, without the nag packs.

    For `cdk synth --app` in the benchmark only, so that each row differs from the real app in
    exactly one thing: the factory is patched before app.py imports it.
    """
    import stacks.factory as factory

    if not nag:
        setattr(factory, "compliance_packs", lambda app, **_: [])  # noqa: B010
    sys.path.insert(0, str(ROOT))
    app = importlib.import_module("app")
    status: int = app.main()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    app = sub.add_parser("app", help="bench-only app entry point for `cdk synth --app`")
    app.add_argument("--without-nag", action="store_true")
    parser.add_argument("--quick", action="store_true", default=os.environ.get("QUICK") == "1")
    parser.add_argument("--samples", type=int, default=None)
    parser.add_argument("--output", type=Path, default=REPORT)
    args = parser.parse_args(argv)

    if args.command == "app":
        return run_app(nag=not args.without_nag)

    samples = args.samples or (1 if args.quick else SAMPLES)
    scale_samples = min(samples, SCALE_SAMPLES)
    started = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    clock = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
        work = Path(scratch)
        floor_script = work / "floor.py"
        floor_script.write_text(FLOOR_PROGRAM)
        empty_stack_script = work / "empty_stack.py"
        empty_stack_script.write_text(ONE_EMPTY_STACK_PROGRAM)
        interpreter = app_interpreter()
        import_floor_script = work / "import_floor.py"
        import_floor_script.write_text(import_floor_program())
        # An empty bytecode cache: Python compiles every module again and writes nothing.
        no_bytecode = {
            "PYTHONPYCACHEPREFIX": str(work / "no-bytecode"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        floor = Scenario(
            "floor",
            "**CLI floor**: `cdk synth` of one empty stack, run as cdk.json runs app.py",
            cdk_synth("--app", shlex.join([*interpreter, str(empty_stack_script)])),
        )
        bare = Scenario(
            "bare",
            "reference: bare Python, import aws_cdk + empty App (no CLI)",
            lambda _: [PYTHON, str(floor_script)],
        )
        synths = [
            Scenario(
                "importfloor",
                "**import floor**: the same, importing every module the app imports",
                cdk_synth("--app", shlex.join([*interpreter, str(import_floor_script)])),
            ),
            bare,
            Scenario("full", "`cdk synth`: the whole app, cdk-nag included", cdk_synth()),
            Scenario(
                "nobytecode",
                "`cdk synth` with the venv's bytecode absent (compiled at every import)",
                cdk_synth(),
                env=no_bytecode,
            ),
            Scenario(
                "nonag",
                "`cdk synth` without the cdk-nag packs",
                cdk_synth("--app", bench_app(*interpreter, "--without-nag")),
            ),
            Scenario(
                "guard",
                "`make cfn-guard`: cfn-guard over the full synth's cdk.out (not a synth)",
                # The full synth of the same sample ran just before (run_samples keeps the order).
                lambda outdir: [
                    PYTHON,
                    "-m",
                    "tools.cfn_guard",
                    str(outdir.with_name(outdir.name.replace("guard", "full"))),
                ],
            ),
            Scenario(
                "checkchange",
                "`make check-change ENV=prod BASE=HEAD`: both sides synthesized, then classified"
                " (not one synth: two, in parallel)",
                lambda _: [
                    PYTHON,
                    "-m",
                    "tools.change_safety",
                    "check-change",
                    "--env",
                    "prod",
                    "--base",
                    "HEAD",
                ],
            ),
            Scenario(
                "typeguard",
                "`cdk synth` with jsii's runtime type checks on (no `-O`)",
                cdk_synth("--app", bench_app(PYTHON)),
            ),
        ]
        print("==> warm-up (not counted)", file=sys.stderr)
        run_samples([Scenario("warmup", "warm-up", floor.command)], 1, work)
        print(f"==> synth, {samples} sample(s)", file=sys.stderr)
        run_samples([floor, *synths], samples, work)
        sizes = [StackSize.of(s) for s in read(work / "full-0").stacks]

        print(f"==> scale, {scale_samples} sample(s)", file=sys.stderr)
        scale = scale_scenarios(work)
        run_samples(scale, scale_samples, work)

        print("==> test suites", file=sys.stderr)
        selection = "not (integration or development)"
        unit = run_suite(f'unit (`make unit`): `pytest -m "{selection}"`', ["-m", selection])
        alone = [
            run_suite(f"`{path.relative_to(ROOT)}`", [str(path.relative_to(ROOT))])
            for path in sorted(ROOT.glob("constructs_lib/*/tests/test_*.py"))
        ]
        make_test = None
        if not args.quick:
            # Everything CI runs (.ci/run), the emulator's deploys included, on the ready tree.
            make_test = run_tests("`make test` on the ready tree (CI)", ["make", "test"])

    text = report(
        floor=floor,
        synths=synths,
        scale=scale,
        unit=unit,
        alone=alone,
        make_test=make_test,
        sizes=sizes,
        samples=samples,
        started=started,
        load=(load_before, os.getloadavg()[0]),
        elapsed=time.perf_counter() - clock,
    )
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"==> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
