"""Request examples for the OpenAPI document, from the bundled ``examples/`` files when they are present."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@cache
def load_example(name: str) -> dict[str, Any] | None:
    """The JSON object of ``examples/<name>``, or None where the file is not installed."""
    try:
        data = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def openapi_examples(name: str, summary: str) -> dict[str, Any]:
    """``openapi_examples`` of a request body: the bundled example, if any."""
    value = load_example(name)
    return {} if value is None else {"example": {"summary": summary, "value": value}}
