"""Bounds of the numbers callers send: record ids and paging, the same for every domain.

Every table's id fits PostgreSQL's INTEGER; a number beyond (2**70, say) is refused with 422
where it comes in, rather than reaching a driver that cannot bind it (a 500). Paths and queries
use the annotated types in ``lianfang.api.deps``; request bodies use ``RecordId`` below.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ID = 2**31 - 1
"""The largest record id (PostgreSQL INTEGER)."""

MAX_OFFSET = 2**31 - 1
"""The largest row offset or page number a list accepts (no table holds more rows)."""

RecordId = Annotated[int, Field(ge=1, le=MAX_ID, description=f"a record id, 1–{MAX_ID}")]


def is_record_id(value: int) -> bool:
    """Whether a number can be a record id (for ids parsed from form text)."""
    return 1 <= value <= MAX_ID
