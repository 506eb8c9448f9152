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
        # the most specific error: in a union (a metric name, or a custom metric object) the member whose
        # error reaches deepest is the one the caller meant
        errors = [(_field_loc(e["loc"]), e["msg"]) for e in exc.errors()]
        loc, msg = max(errors, key=lambda item: len(item[0]))
        raise InvalidInputError(field_path(loc) or "request", msg.removeprefix("Value error, ")) from None


def _field_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """The fields and indices of a pydantic error location, without union-member tags."""
    return tuple(p for p in loc if isinstance(p, int) or not (p[:1].isupper() or "[" in p))
