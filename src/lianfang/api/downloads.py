"""Files sent to the browser: one helper for API and pages alike."""

from __future__ import annotations

from pathlib import PurePath
from urllib.parse import quote

from fastapi.responses import Response

MEDIA_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv; charset=utf-8",
}


def download(data: bytes, filename: str) -> Response:
    """A file download, its type from the name's suffix (the name may be Chinese)."""
    media_type = MEDIA_TYPES.get(PurePath(filename).suffix.lower(), "application/octet-stream")
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
