"""The bundled example requests (``examples/``): for ``annoplan demo`` and the OpenAPI document.

An installed wheel carries them as package data (``api/_examples/``, copied there by the build, see
``setup.py``); a checkout reads ``examples/`` beside the packages.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


def examples_directory() -> Path:
    """Where the bundled examples are: inside the installed package, else the checkout's ``examples/``."""
    installed = Path(__file__).resolve().parent / "_examples"
    return installed if installed.is_dir() else Path(__file__).resolve().parent.parent / "examples"


EXAMPLES = examples_directory()


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
