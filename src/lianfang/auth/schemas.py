"""What the API takes and returns for users, sign-in and tokens."""

from __future__ import annotations

import re
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lianfang.auth.choices import AuditAction, Role
from lianfang.schemas import WriteSchema

USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")


class UserBase(BaseModel):
    username: str = Field(description="2–64 letters, digits, '_', '.', '-'")
    display_name: str = Field(min_length=1, max_length=100)
    role: Role
    area_code: str | None = Field(None, description="root of the user's scope (any code form)")

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME.match(value):
            raise ValueError("username must be 2–64 letters, digits, '_', '.' or '-'")
        return value


class UserCreate(WriteSchema, UserBase):
    """A user to add."""

    password: str = Field(min_length=10, max_length=200, repr=False)


class UserUpdate(WriteSchema):
    """Fields to change; those left out stay as they are."""

    display_name: str | None = Field(None, min_length=1, max_length=100)
    role: Role | None = None
    area_code: str | None = Field(None, description="new scope root (any code form)")
    active: bool | None = Field(None, description="false signs the user out everywhere")


class UserRead(UserBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    active: bool
    created_at: datetime


class TokenCreate(WriteSchema):
    """A sign-in."""

    username: str
    password: str = Field(repr=False)
    name: str = Field("api", max_length=100, description="what the token is for")


class TokenRead(BaseModel):
    access_token: str = Field(description="shown once; send as 'Authorization: Bearer …'")
    token_type: str = "bearer"
    expires_at: datetime


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    username: str
    action: AuditAction
    entity_type: str
    entity_id: str | None
    area_code: str | None
    ip: str | None
    detail: str | None


class AuditPage(BaseModel):
    items: list[AuditEventRead]
    total: int


class AuditChainRead(BaseModel):
    """What a walk along the audit log's hash chain found."""

    ok: bool
    rows: int = Field(description="rows checked and intact, from the first")
    last_id: int | None = Field(description="the last intact row")
    head: str = Field(description="the hash of the last intact row; keep it to compare later")
    broken_at: int | None = Field(description="the first row where the chain breaks")
    problem_zh: str | None
    problem_en: str | None
