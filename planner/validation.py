"""One entry point for requests: dict or model in, validated model out, errors naming the field."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from annoplan.planner.errors import InvalidInputError

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
        errors = [(field_loc(e["loc"], request), e["msg"]) for e in exc.errors()]
        loc, msg = max(errors, key=lambda item: len(item[0]))
        raise InvalidInputError(field_path(loc) or "request", msg.removeprefix("Value error, ")) from None


def field_loc(loc: tuple[int | str, ...], request: Any) -> tuple[int | str, ...]:
    """The fields and indices of a pydantic error location, without union-member and discriminator tags.

    Walking the request along the location, a name that is not a key of the input object there is a tag
    pydantic added (``MetricSpec``, ``model_metric``, ``literal[...]``), except that the last part may name a
    missing field of an object.
    """
    out: list[int | str] = []
    node = request
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(part, str) and (
            "[" in part or not isinstance(node, dict) or (part not in node and not last)
        ):
            continue
        out.append(part)
        if isinstance(node, dict) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)
