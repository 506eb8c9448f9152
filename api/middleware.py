"""ASGI middleware: a request id and a catch-all 500 around everything, and the request-body size cap.

Both are plain ASGI (no ``BaseHTTPMiddleware``), so they neither buffer responses nor change how routes run.
"""

from __future__ import annotations

import logging
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from annoplan.api.problems import PROBLEM_TYPES, problem_response

logger = logging.getLogger("annoplan.api")

REQUEST_ID_HEADER = "X-Request-ID"
#: a caller's request id is kept when it looks like one (else a fresh one is made)
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestContextMiddleware:
    """Gives every request an id (echoed in ``X-Request-ID`` and logged), and turns any unhandled exception
    into a 500 problem that says nothing about the internals (the log has the traceback and the id)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = given if REQUEST_ID_PATTERN.fullmatch(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception(
                "unhandled error in %s %s (request id %s)", scope.get("method"), scope.get("path"), request_id
            )
            if started:
                raise
            detail = f"the server failed to answer; quote request id {request_id} when reporting it"
            response = problem_response(
                PROBLEM_TYPES["internal-error"],
                detail,
                scope.get("path", ""),
                headers={REQUEST_ID_HEADER: request_id},
            )
            await response(scope, receive, send)


class BodyLimitMiddleware:
    """Refuses request bodies over ``max_body_bytes`` with 413: by ``Content-Length`` before reading, and
    by counting the bytes as they stream in (chunked bodies, or a length that lies). The body is read in
    full before the app sees it, so an app never works on a truncated body."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = f"the request body is larger than this server accepts ({self.max_body_bytes:,} bytes)"
        response = problem_response(
            PROBLEM_TYPES["body-too-large"], detail, scope.get("path", ""), headers={"Connection": "close"}
        )
        await response(scope, receive, send)
