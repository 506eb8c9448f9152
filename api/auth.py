"""API keys: ``X-API-Key`` against ``ANNOPLAN_API_KEYS``, in constant time; a key's tenant owns its data.

A tenant is the SHA-256 of its key (hex): stored plans and quotes carry it, and another key never sees them.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from annoplan.api.problems import ProblemError

API_KEY_HEADER = "X-API-Key"

api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="one of the keys in the server's ANNOPLAN_API_KEYS",
)


def tenant_of(key: str) -> str:
    """The tenant that owns what ``key`` stores: the SHA-256 of the key, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


def is_accepted(key: str, digests: tuple[bytes, ...]) -> bool:
    """Whether ``key`` is one of the keys with these SHA-256 ``digests``.

    Every digest is compared, with :func:`hmac.compare_digest` on equal-length digests, so the time taken
    says nothing about which key matched, or how much of one.
    """
    given = hashlib.sha256(key.encode()).digest()
    matched = False
    for digest in digests:
        matched |= hmac.compare_digest(given, digest)
    return matched


async def require_tenant(request: Request, key: Annotated[str | None, Security(api_key_header)]) -> str:
    """The caller's tenant; 401 problem without a valid ``X-API-Key`` (on the event loop: a 401 never
    waits for a thread)."""
    digests: tuple[bytes, ...] = request.app.state.key_digests
    if not key or not is_accepted(key, digests):
        raise ProblemError(
            "unauthorized",
            f"send a valid API key in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": f'ApiKey header="{API_KEY_HEADER}"'},
        )
    return tenant_of(key)


TenantDep = Annotated[str, Depends(require_tenant)]
