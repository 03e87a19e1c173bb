"""Request and response bodies of the auth and user APIs."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str
    phone: str
    role: str
    agency_id: int | None
    language: str | None
    active: bool
    created_at: datetime
    last_login_at: datetime | None


class MeOut(UserOut):
    permissions: list[str]
    via: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    role: str
    agency_id: int | None = None
    full_name: str = Field("", max_length=120)
    email: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str | None = None
    agency_id: int | None = None
    full_name: str | None = Field(None, max_length=120)
    email: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    active: bool | None = None
    language: str | None = Field(None, pattern="^(vi|en)$")


class PasswordReset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=1, max_length=200)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=120)
    scopes: list[str] = Field(default_factory=list, description="Empty: all of the user's permissions")


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown only once")
