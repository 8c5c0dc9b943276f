"""One deploy per test session into a fresh, embedded AWS emulator (moto), with the real CDK CLI.

The emulator starts on 127.0.0.1 on a port the OS picks, with dummy credentials, and stops at the
end of the session. The `local` environment of the test fixture (tests/fixture_context.json) is
synthesized by the real CLI with cdk.json's app command and flags, bootstrapped and deployed once;
tests read the result back through the AWS API (boto3 against the emulator). The app variants that
the change scenarios deploy later are synthesized in the background meanwhile, each from a copy of
cdk.json in a folder of its own, never in the repository's cdk.out. (`test_domain.py`
deploys one small app of its own besides, into the same emulator.)

Tests that change the deployment live in `test_changes.py` and run after every other integration
test, and `test_teardown.py` destroys it and runs last of all (`pytest_collection_modifyitems`
below), whatever order pytest is given. A module that deploys a stack of its own deletes it when
it is done, so that the teardown finds only the session's deployment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.config import AppConfig, EnvironmentConfig
from tests.conftest import REPO
from tests.integration.export_removal_app import KEEP_EXPORT, REMOVE_EXPORT, STEP
from tools.bytecode import app_flags
from tools.cloud_assembly import CloudAssembly, read
from tools.context import fixture_context
from tools.dev.emulator import (
    BOOTSTRAP_STACK,
    CDK,
    ENVIRONMENT,
    CdkError,
    CdkProcess,
    Emulator,
    bootstrap,
    cdk_json_with,
    deploy,
    explain_deploy_failure,
    start_synth,
)
from tools.dev.local_change_safety import with_new_vpc_cidr

# Run in this order after every other module: they change, then destroy, the deployment.
LAST_MODULES = ("test_changes.py", "test_teardown.py")
EXPORT_REMOVAL_APP = Path(__file__).with_name("export_removal_app.py")
DOMAIN_APP = Path(__file__).with_name("domain_app.py")
# Fixtures whose app variants are worth synthesizing while the first deploy runs.
VARIANT_FIXTURES = {
    "capacity_variant",
    "release_variant",
    "keep_export_variant",
    "remove_export_variant",
    "vpc_cidr_variant",
}
# A second release of the local environment: only the launch template's user data differs from
# the capacity change deployed before it. The emulator downloads nothing: the values need only
# pass config validation.
SECOND_RELEASE = {
    "artifact": "releases/webapp-2.0.0.tar.gz",
    "versionId": "Lb2nVxJ2VwL0nUpSpQ5VEXsT.ZdUYdhg",
    "sha256": "0123456789abcdef" * 4,
}


def pytest_configure(config: pytest.Config) -> None:
    # moto warns about each unsupported resource type every time it parses a template; the tests
    # read what it skipped back from the API instead.
    config.addinivalue_line("filterwarnings", "ignore:Tried to parse:UserWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that change the deployment after those that read it as first deployed, and
    the teardown after all of them."""
    last = {name: [item for item in items if item.path.name == name] for name in LAST_MODULES}
    items[:] = [item for item in items if item.path.name not in LAST_MODULES] + [
        item for name in LAST_MODULES for item in last[name]
    ]


@dataclass(frozen=True)
class Deployment:
    """What the session deployed: the emulator, the assembly and the configuration behind it."""

    emulator: Emulator
    assembly: CloudAssembly
    config: AppConfig
    environment: EnvironmentConfig

    def client(self, service: str) -> Any:
        return self.emulator.client(service)


class Variant:
    """An app variant synthesized in the background from a modified copy of cdk.json."""

    def __init__(self, workdir: Path, cdk_json: dict[str, Any]) -> None:
        workdir.mkdir(parents=True)
        (workdir / "cdk.json").write_text(json.dumps(cdk_json, indent=2))
        self._outdir = workdir / "cdk.out"
        self._process: CdkProcess = start_synth(workdir, self._outdir)
        self._assembly: CloudAssembly | None = None

    def assembly(self) -> CloudAssembly:
        if self._assembly is None:
            try:
                self._process.result()
            except CdkError as error:
                pytest.fail(f"cdk synth of a test variant failed:\n{error.tail()}")
            self._assembly = read(self._outdir)
        return self._assembly

    def kill(self) -> None:
        self._process.kill()


def capacity_context() -> dict[str, Any]:
    """The fixture's context with one more instance allowed in the local environment."""
    context = fixture_context()
    context["environments"][ENVIRONMENT]["fleet"]["maxCapacity"] += 1
    return context


def release_context() -> dict[str, Any]:
    """The capacity change's context with a second release of the local environment."""
    context = capacity_context()
    context["environments"][ENVIRONMENT]["fleet"]["release"] = SECOND_RELEASE
    return context


def export_removal_context(step: str) -> dict[str, Any]:
    # After the second release, so that each deploy of test_changes.py changes one thing.
    context = release_context()
    context[STEP] = step
    return context


@pytest.fixture(scope="session")
def _variants(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Variant]]:
    wanted = {
        name
        for item in request.session.items
        for name in getattr(item, "fixturenames", ())
        if name in VARIANT_FIXTURES
    }
    root = tmp_path_factory.mktemp("variants")
    apps = {
        "capacity_variant": lambda: cdk_json_with(capacity_context(), [str(REPO / "app.py")]),
        "release_variant": lambda: cdk_json_with(release_context(), [str(REPO / "app.py")]),
        "keep_export_variant": lambda: cdk_json_with(
            export_removal_context(KEEP_EXPORT), [str(EXPORT_REMOVAL_APP)]
        ),
        "remove_export_variant": lambda: cdk_json_with(
            export_removal_context(REMOVE_EXPORT), [str(EXPORT_REMOVAL_APP)]
        ),
        # A new range for the local VPC: classified against the deployment, never deployed.
        "vpc_cidr_variant": lambda: cdk_json_with(
            with_new_vpc_cidr(fixture_context()), [*app_flags(), str(REPO / "app.py")]
        ),
    }
    variants = {name: Variant(root / name, apps[name]()) for name in sorted(wanted)}
    yield variants
    for variant in variants.values():
        variant.kill()


def ensure_bootstrapped(emulator: Emulator, workdir: Path) -> None:
    """`cdk bootstrap` once per emulator, whichever fixture needs it first."""
    cloudformation = emulator.client("cloudformation")
    stacks = cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE", "UPDATE_COMPLETE"])
    if not any(s["StackName"] == BOOTSTRAP_STACK for s in stacks["StackSummaries"]):
        bootstrap(emulator, workdir)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    if not CDK.exists():
        pytest.fail(f"{CDK} is missing: run `make setup` (integration tests use the pinned CLI)")
    with Emulator() as running:
        yield running


@pytest.fixture(scope="session")
def deployment(
    emulator: Emulator,
    _variants: dict[str, Variant],
    tmp_path_factory: pytest.TempPathFactory,
) -> Deployment:
    """The fixture's `local` environment, deployed into the session's emulator."""
    workdir = tmp_path_factory.mktemp("deployment")
    # As cdk.json runs it (`-O`), with the fixture's context, from a folder of its own: bootstrap
    # runs in `workdir`, where no cdk.json may be.
    app_dir = workdir / "app"
    app_dir.mkdir()
    (app_dir / "cdk.json").write_text(
        json.dumps(cdk_json_with(fixture_context(), [*app_flags(), str(REPO / "app.py")]), indent=2)
    )
    synth = start_synth(app_dir, workdir / "cdk.out")
    try:
        ensure_bootstrapped(emulator, workdir)
        synth.result()
    except CdkError as error:
        synth.kill()
        pytest.fail(f"{error}:\n{error.tail()}")
    assembly = read(workdir / "cdk.out")
    try:
        deploy(emulator, assembly)
    except CdkError as error:
        pytest.fail(f"cdk deploy failed:\n{explain_deploy_failure(emulator, assembly, error)}")
    config = AppConfig.from_context(fixture_context())
    environment = next(e for e in config.environments if e.name == ENVIRONMENT)
    return Deployment(emulator=emulator, assembly=assembly, config=config, environment=environment)


@pytest.fixture(scope="session")
def capacity_variant(_variants: dict[str, Variant]) -> Variant:
    return _variants["capacity_variant"]


@pytest.fixture(scope="session")
def release_variant(_variants: dict[str, Variant]) -> Variant:
    return _variants["release_variant"]


@pytest.fixture(scope="session")
def keep_export_variant(_variants: dict[str, Variant]) -> Variant:
    return _variants["keep_export_variant"]


@pytest.fixture(scope="session")
def remove_export_variant(_variants: dict[str, Variant]) -> Variant:
    return _variants["remove_export_variant"]


@pytest.fixture(scope="session")
def vpc_cidr_variant(_variants: dict[str, Variant]) -> Variant:
    return _variants["vpc_cidr_variant"]
