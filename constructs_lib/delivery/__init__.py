"""The delivery component: the parts of the self-mutating pipeline (artifact store, build
defaults, the connection's permissions)."""

from constructs_lib.delivery._config import PipelineSection, PipelineWaves
from constructs_lib.delivery._pipeline import (
    CDK_ASSETS_VERSION,
    acknowledge_generated_grants,
    artifact_store,
    build_defaults,
    use_connection_under_its_own_prefix,
)

__all__ = [
    "CDK_ASSETS_VERSION",
    "PipelineSection",
    "PipelineWaves",
    "acknowledge_generated_grants",
    "artifact_store",
    "build_defaults",
    "use_connection_under_its_own_prefix",
]
