"""JSON request bodies read so that every bad value is named by its field.

Python refuses to read an integer of more than ``sys.get_int_max_str_digits()`` digits (4,300), and the
framework then answers a bare "error parsing the body". Read with :class:`JSONRequest`, such a number
becomes a short placeholder string instead, which the request's schema refuses with a 422 naming its field
(``pilot.rounds[2].n_labels: Input should be a valid integer``). Routers that take JSON bodies use
:class:`JSONRoute`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


def bounded_int(digits: str) -> int | str:
    """An integer of the body, or a placeholder naming its length when Python would refuse to read it."""
    length = len(digits.lstrip("-"))
    if length > sys.get_int_max_str_digits():
        return f"<an integer of {length:,} digits>"
    return int(digits)


class JSONRequest(Request):
    """A request whose JSON body reads integers of any length (see the module's docstring)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_int=bounded_int)
        return self._json


class JSONRoute(APIRoute):
    """A route that reads its body through :class:`JSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            return await handle(JSONRequest(request.scope, request.receive))

        return handler
