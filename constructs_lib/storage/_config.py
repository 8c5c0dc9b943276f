"""The `storage` section of an environment: what becomes of the buckets on teardown."""

from __future__ import annotations

from pydantic import Field

from constructs_lib.core import Placement, Problem, Problems, Section, emulator_switch


class StorageSection(Section):
    """The artifact and access-log buckets: whether a teardown empties them."""

    empty_buckets_on_delete: bool | None = Field(
        None, description="empty the buckets when the stack is deleted; default: on outside prod"
    )

    def empties_on_delete(self, placement: Placement) -> bool:
        """Outside prod a teardown deletes the buckets, which CloudFormation cannot while full."""
        if self.empty_buckets_on_delete is None:
            return not placement.is_production
        return self.empty_buckets_on_delete

    def problems(self, placement: Placement) -> Problems:
        at = f"{placement.path}.storage.emptyBucketsOnDelete"
        if placement.is_production and self.empty_buckets_on_delete:
            allowed = "production keeps its buckets and their objects when its stacks are deleted"
            yield Problem(at, True, allowed)
        yield from emulator_switch(
            placement,
            at,
            # Off is production's own default: prod keeps its buckets.
            self.empties_on_delete(placement) or placement.is_production,
            "deleting the environment fails on its full buckets",
        )
