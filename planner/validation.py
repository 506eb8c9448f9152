"""One entry point for requests: dict or model in, validated model out, errors naming the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from planner.errors import InvalidInputError

M = TypeVar("M", bound=BaseModel)


def field_path(loc: tuple[int | str, ...]) -> str:
    """``("rounds", 2, "value")`` -> ``"rounds[2].value"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_request(model: type[M], request: M | dict[str, Any] | Any) -> M:
    """Validate ``request`` (the JSON as a dict, or the model itself) into ``model``.

    Raises
    ------
    InvalidInputError
        naming the first offending field and what is wrong with it.
    """
    if isinstance(request, model):
        return request
    if not isinstance(request, dict):
        raise InvalidInputError("request", f"expected a JSON object, got {type(request).__name__}")
    try:
        return model.model_validate(request)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and "[" in p))
        msg = first["msg"].removeprefix("Value error, ")
        raise InvalidInputError(field_path(loc) or "request", msg) from None
