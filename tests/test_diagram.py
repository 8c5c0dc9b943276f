"""The architecture picture is drawn from the synthesized app, so it cannot drift from the code.

The DOT source is generated here from the session's cloud assembly (the same reader `make diagram`
uses on cdk.out); Graphviz is needed only to render it, not to check it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest

from stacks.web_tier_stage import WebTierStage
from tests.conftest import REPO, Synthesized, synthesize
from tools.cloud_assembly import Stack
from tools.context import fixture_context
from tools.dev.diagram import (
    DEFAULT_ENVIRONMENT,
    build_dot,
    cluster_id,
    exports_of,
    imports_of,
    load_stacks,
    quote,
    render_svg,
    stacks_of_environment,
    title_of,
)

# The picture helps a reader; a production deploy need not wait for it (`make dev-checks`).
pytestmark = pytest.mark.development

ENVIRONMENTS = sorted(fixture_context()["environments"])
EDGE = re.compile(r'^\s*"(?P<tail>[^"]+)" -> "(?P<head>[^"]+)" \[(?P<attributes>.*)\];$')
NETWORK_PATH_COLOUR = 'color="#1d4ed8"'
COMMITTED_PICTURE = REPO / "docs" / "architecture.svg"


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    attributes: str

    def attribute(self, name: str) -> str:
        found = re.search(rf'\b{name}="((?:[^"\\]|\\.)*)"', self.attributes)
        return found.group(1) if found else ""


def kind(node_id: str) -> str:
    parts = node_id.split("/")
    return parts[1] if len(parts) > 1 else parts[0]


def edges(dot: str) -> list[Edge]:
    return [
        Edge(m["tail"], m["head"], m["attributes"])
        for line in dot.splitlines()
        if (m := EDGE.match(line)) and "style=invis" not in line
    ]


@pytest.fixture(scope="module")
def synthesized(context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app as `cdk synth` builds it: the picture needs its topology, not the validation
    plugins of the unit session, which would add about 10 s to `make dev-checks`."""
    return synthesize(
        context,
        tmp_path_factory.mktemp("cdk.out"),
        builtin_cloud_formation_validation=False,
    )


@pytest.fixture(scope="module")
def assembly(synthesized: Synthesized) -> list[Stack]:
    return load_stacks(synthesized.assembly)


def diagram_of(assembly: list[Stack], env: str) -> tuple[list[Stack], str]:
    stacks = stacks_of_environment(assembly, env)
    return stacks, build_dot(stacks, title=env)


def stack_names_of_the_app(app: cdk.App) -> set[str]:
    return {c.stack_name for c in app.node.find_all() if isinstance(c, cdk.Stack)}


def stage_of(app: cdk.App, env: str) -> WebTierStage:
    """The environment's stage, at the top level or inside the pipeline stack."""
    candidates = [*app.node.children]
    for child in app.node.children:
        if isinstance(child, cdk.Stack):
            candidates += child.node.children
    return next(
        stage
        for stage in candidates
        if isinstance(stage, WebTierStage) and stage.environment.name == env
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_diagram_has_a_cluster_named_after_each_stack_of_the_environment(
    synthesized: Synthesized, assembly: list[Stack], env: str
) -> None:
    _, dot = diagram_of(assembly, env)
    stage_stacks = {stack.stack_name for stack in stage_of(synthesized.app, env).stacks.values()}

    assert stage_stacks
    for name in stage_stacks:
        assert f"subgraph {cluster_id(name)} {{" in dot, name
        assert f"label={quote(name)[:-1]}" in dot, name


def test_every_stack_of_the_app_is_drawn_in_the_diagram_of_some_environment(
    synthesized: Synthesized, assembly: list[Stack]
) -> None:
    # The pipeline, or any stack added later, must show up next to what it belongs to or deploys.
    drawn: set[str] = set()
    for env in ENVIRONMENTS:
        stacks, dot = diagram_of(assembly, env)
        drawn |= {s.stack_name for s in stacks if f"subgraph {cluster_id(s.stack_name)} " in dot}

    assert stack_names_of_the_app(synthesized.app) - drawn == set()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_cross_stack_reference_is_an_edge_from_producer_to_consumer_saying_what_crosses(
    assembly: list[Stack], env: str
) -> None:
    stacks, dot = diagram_of(assembly, env)
    producers = {name: s.stack_name for s in stacks for name in exports_of(s.template)}
    drawn = edges(dot)

    references = [(name, s.stack_name) for s in stacks for name in sorted(imports_of(s.template))]
    assert references, f"{env}: no cross-stack reference found; the reader may be broken"
    for export, consumer in references:
        producer = producers[export]
        matching = [
            e
            for e in drawn
            if e.tail.startswith(f"{producer}/")
            and e.head.startswith(f"{consumer}/")
            and export in e.attribute("tooltip")
        ]
        assert len(matching) == 1, f"{env}: {producer} -> {consumer} {export}"
        label = matching[0].attribute("label")
        assert label, f"{env}: {export}"
        assert "Ref" not in label.split("\\n"), f"{env}: {export} crosses as {label!r}"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_network_path_runs_from_the_internet_through_the_load_balancer_and_instances_to_the_database_tier(  # noqa: E501
    synthesized: Synthesized, assembly: list[Stack], env: str
) -> None:
    environment = stage_of(synthesized.app, env).environment
    _, dot = diagram_of(assembly, env)
    # Keyed by kind (the node ID is `<stack>/<kind>[/<name>]`): names come from construct paths,
    # which only the CLI writes into templates.
    path = {
        (kind(e.tail), kind(e.head)): e.attribute("label")
        for e in edges(dot)
        if NETWORK_PATH_COLOUR in e.attributes and "style=" not in e.attributes
    }

    assert path[("internet", "Load balancer")].startswith("tcp ")
    assert path[("Load balancer", "Auto Scaling group")] == f"tcp {environment.fleet.app_port}"
    assert path[("Auto Scaling group", "Security group")] == f"tcp {environment.security.db_port}"
    assert len(path) == 3, path


def test_the_committed_picture_is_what_make_diagram_draws_from_the_code_now(
    assembly: list[Stack],
) -> None:
    # The README shows this picture: any change to what the environment holds or to what crosses
    # a stack boundary must come with a fresh `make diagram`, or the README lies.
    stacks = stacks_of_environment(assembly, DEFAULT_ENVIRONMENT)
    drawn = render_svg(build_dot(stacks, title=title_of(DEFAULT_ENVIRONMENT, "example values")))

    assert drawn == COMMITTED_PICTURE.read_text(), (
        f"{COMMITTED_PICTURE.name} is stale: run `make diagram`"
    )


def test_the_committed_picture_names_every_stack_and_cross_stack_reference(
    assembly: list[Stack],
) -> None:
    # What a reader looks for first; edge tooltips carry the export names.
    picture = html.unescape(COMMITTED_PICTURE.read_text())
    stacks = stacks_of_environment(assembly, DEFAULT_ENVIRONMENT)
    expected = [s.stack_name for s in stacks]
    expected += sorted(name for s in stacks for name in imports_of(s.template))

    assert [name for name in expected if name not in picture] == []


def test_the_entry_point_names_the_domain_users_reach_and_draws_its_record_and_certificate(
    assembly: list[Stack],
) -> None:
    _, dot = diagram_of(assembly, "prod")
    domain = fixture_context()["environments"]["prod"]["edge"]["domain"]["name"]
    internet = next(line for line in dot.splitlines() if line.strip().startswith('"internet" ['))

    assert domain in internet
    assert "DNS record" in dot
    assert "ACM certificate" in dot


def test_without_a_domain_the_entry_point_is_the_plain_internet(
    assembly: list[Stack],
) -> None:
    _, dot = diagram_of(assembly, "dev")
    internet = next(line for line in dot.splitlines() if line.strip().startswith('"internet" ['))

    assert 'label="Internet"' in internet
