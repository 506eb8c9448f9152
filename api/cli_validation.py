"""Every problem of a request at once, for the command line: one line per bad field, with "did you mean" for a
misspelt field name and a hint where a share looks like a percentage (``89.0`` for ``0.89``)."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from annoplan.planner.validation import field_loc, field_path


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models an annotation may hold (through lists, unions, ``Annotated`` and optionals)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return
    for argument in typing.get_args(annotation):
        yield from _models_in(argument)


def known_fields(model: type[BaseModel], loc: tuple[int | str, ...]) -> set[str]:
    """The field names of the object at ``loc`` (a raw pydantic location, union tags kept) in ``model``."""
    models: list[type[BaseModel]] = [model]
    for part in loc:
        if isinstance(part, int):
            continue
        holding = [m for m in models if part in m.model_fields]
        if not holding:  # a union member's tag: the models stay
            continue
        models = [inner for m in holding for inner in _models_in(m.model_fields[part].annotation)]
    return {name for m in models for name in m.model_fields}


def _hint(error: ErrorDetails, name: str, model: type[BaseModel]) -> str:
    """What to do about one error at the field ``name``, beyond pydantic's message ("" when nothing helps)."""
    kind = error["type"]
    if kind == "extra_forbidden":
        loc, key = error["loc"][:-1], str(error["loc"][-1])
        close = difflib.get_close_matches(key, sorted(known_fields(model, loc)), n=1, cutoff=0.6)
        return f"; did you mean {name.removesuffix(key)}{close[0]}?" if close else ""
    value = error.get("input")
    if kind == "literal_error" and isinstance(value, str):
        choices = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
        close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
        return f"; did you mean {close[0]!r}?" if close else ""
    limit = (error.get("ctx") or {}).get("le")
    if kind == "less_than_equal" and limit == 1 and isinstance(value, int | float) and 1 < value <= 100:
        return f"; it looks like a percentage: write {value / 100:g} for {value:g}%"
    return ""


def request_problems(model: type[BaseModel], request: Any) -> list[str]:
    """Every problem of ``request`` as ``"field: message"`` lines (none when it is valid).

    Pydantic reports one error per member of a union; of errors at the same field only the first is kept,
    and an error at a field that holds another's field (``metric`` against ``metric.name``) is dropped.
    """
    try:
        model.model_validate(request)
    except ValidationError as exc:
        found: dict[str, str] = {}
        for error in exc.errors():
            name = field_path(field_loc(error["loc"], request)) or "request"
            message = error["msg"].removeprefix("Value error, ") + _hint(error, name, model)
            found.setdefault(name, message)
        inner = [
            name
            for name in found
            if not any(other != name and other.startswith((f"{name}.", f"{name}[")) for other in found)
        ]
        return [f"{name}: {found[name]}" for name in inner]
    return []
