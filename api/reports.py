"""Excel downloads: the response class and its OpenAPI description."""

from __future__ import annotations

from typing import Any

from fastapi import Response

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

XLSX_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the workbook (an attachment)",
        "content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            "Content-Disposition": {
                "description": 'attachment; filename="annoplan-<kind>-<id>.xlsx"',
                "schema": {"type": "string"},
            }
        },
    }
}


class XlsxResponse(Response):
    media_type = XLSX_MEDIA_TYPE


def workbook_response(content: bytes, filename: str) -> XlsxResponse:
    """``content`` as a downloadable ``.xlsx`` attachment named ``filename`` (ASCII, no quotes)."""
    return XlsxResponse(content, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
