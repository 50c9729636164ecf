"""User-facing errors.

An `AdvisorError` is something the user can fix (a bad file, a missing model, an
unknown name). The CLI prints it on stderr without a traceback and exits 1.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class AdvisorError(Exception):
    """An error the user can act on, located as precisely as we can.

    `file`, `line` and `field` say where; `hint` says how to fix it.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.hint = hint

    @property
    def location(self) -> str:
        """`file:line` (either part may be missing), or an empty string."""
        if self.file is None:
            return f"line {self.line}" if self.line is not None else ""
        return f"{self.file}:{self.line}" if self.line is not None else self.file

    def __str__(self) -> str:
        parts = []
        if self.location:
            parts.append(f"{self.location}: ")
        if self.field:
            parts.append(f"field '{self.field}': ")
        parts.append(self.message)
        text = "".join(parts)
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class TaskError(AdvisorError):
    """A task folder that does not follow the task format."""


class ConfigError(AdvisorError):
    """A configuration, profile or override that cannot be used."""


class ModelError(AdvisorError):
    """A model that cannot be found or loaded."""


class ScenarioError(AdvisorError):
    """A scenario (flags, YAML, JSON or text) that cannot be understood."""
