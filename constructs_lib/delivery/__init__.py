"""delivery"""

from constructs_lib.delivery._pipeline import (
    CDK_ASSETS_VERSION,
    acknowledge_generated_grants,
    artifact_store,
    build_defaults,
    use_connection_under_its_own_prefix,
)

__all__ = [
    "CDK_ASSETS_VERSION",
    "acknowledge_generated_grants",
    "artifact_store",
    "build_defaults",
    "use_connection_under_its_own_prefix",
]
