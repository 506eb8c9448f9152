"""The one exception hierarchy of annoplan (warnings travel as plain sentences in each response).

Every error a caller can cause is an :class:`InvalidInputError` naming the field (``field``) and what to do.
The HTTP layer maps these classes to RFC 9457 problem+json in one table; the CLI maps them to exit code 2.
"""

from __future__ import annotations

from typing import Any


class PlannerError(Exception):
    """Root of every error annoplan raises on purpose."""


class InvalidInputError(PlannerError, ValueError):
    """The request is invalid; ``field`` names the offending input (dotted path, e.g. ``rounds[2].value``)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with both arguments, so the error crosses to another process with its field."""
        return (type(self), (self.field, self.message), self.__dict__)


class NotFoundError(PlannerError, LookupError):
    """A stored plan or quote does not exist (or belongs to another tenant)."""


class FitError(PlannerError, RuntimeError):
    """The learning curve could not be fitted to the pilot; the message says what would help."""
