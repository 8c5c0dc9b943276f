"""The `security` section of an environment: the database tier's port and the key's guard."""

from __future__ import annotations

from pydantic import Field

from constructs_lib.core import Placement, Port, Problems, Section, emulator_switch


class SecuritySection(Section):
    """The database tier's port and the service-linked-role guard the key policy waits for."""

    db_port: Port = 5432
    ensure_service_linked_role: bool = Field(
        True,
        description="create Auto Scaling's service-linked role before the key policy names it",
    )

    def problems(self, placement: Placement) -> Problems:
        yield from emulator_switch(
            placement,
            f"{placement.path}.security.ensureServiceLinkedRole",
            self.ensure_service_linked_role,
            "in an account that never had an Auto Scaling group, KMS rejects the key policy: the "
            "AWSServiceRoleForAutoScaling it names does not exist yet",
        )
