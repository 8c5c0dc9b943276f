"""A block of a Markdown document that a tool writes between two markers, and a test reads back.

The README's cost table and docs/design.md's release plan are generated from the example values,
docs/configuration.md's key table from the configuration models; each has one instance of this,
so writing and checking the block cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GeneratedBlock:
    path: Path
    begin: str
    end: str

    @property
    def _pattern(self) -> re.Pattern[str]:
        return re.compile(re.escape(self.begin) + r"\n(.*?)" + re.escape(self.end), re.DOTALL)

    def read(self) -> str:
        """The block as written, without its markers."""
        match = self._pattern.search(self.path.read_text())
        if match is None:
            raise ValueError(f"{self.path.name} lacks the markers {self.begin} ... {self.end}")
        return match.group(1)

    def write(self, content: str) -> None:
        """Replace the block with `content` (a trailing newline is added if missing)."""
        self.read()  # fails without the markers
        body = content if content.endswith("\n") else content + "\n"
        text = self._pattern.sub(
            lambda _: f"{self.begin}\n{body}{self.end}", self.path.read_text(), count=1
        )
        self.path.write_text(text)
