"""JSON API of authentication and users: ``/api/v1/me``, ``/api/v1/tokens``, ``/api/v1/users``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from saola.core.auth import service
from saola.core.auth.schemas import (
    MeOut,
    PasswordReset,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from saola.core.auth.service import Principal
from saola.core.deps import DbSession, api_principal, require

router = APIRouter(prefix="/api/v1")
Caller = Annotated[Principal, Depends(api_principal)]


@router.get("/me", response_model=MeOut, tags=["auth"], summary="The calling user and their permissions")
def me(principal: Caller) -> MeOut:
    data = UserOut.model_validate(principal.user).model_dump()
    return MeOut(**data, permissions=sorted(principal.permissions), via=principal.via)


@router.get("/tokens", response_model=list[TokenOut], tags=["auth"], summary="The caller's API tokens")
def list_tokens(session: DbSession, principal: Caller) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in service.list_tokens(session, user=principal.user)]


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED, tags=["auth"],
             summary="Create an API token for the caller")
def create_token(body: TokenCreate, session: DbSession, principal: Caller) -> TokenCreated:
    token, secret = service.create_token(session, user=principal.user, scopes=body.scopes, name=body.name)
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"],
               summary="Revoke one of the caller's tokens")
def revoke_token(token_id: int, session: DbSession, principal: Caller) -> None:
    service.revoke_token(session, token_id=token_id, user=principal.user)


@router.get("/users", response_model=list[UserOut], tags=["users"], summary="List users")
def list_users(session: DbSession, _: Annotated[Principal, Depends(require("users:read"))]) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in service.list_users(session)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED, tags=["users"],
             summary="Create a user")
def create_user(
    body: UserCreate, session: DbSession, _: Annotated[Principal, Depends(require("users:manage"))]
) -> UserOut:
    user = service.create_user(session, **body.model_dump())
    return UserOut.model_validate(user)


@router.get("/users/{user_id}", response_model=UserOut, tags=["users"], summary="One user")
def get_user(
    user_id: int, session: DbSession, _: Annotated[Principal, Depends(require("users:read"))]
) -> UserOut:
    return UserOut.model_validate(service.get_user_by_id(session, user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserOut, tags=["users"],
              summary="Change a user's role, agency, details; disable or enable")
def update_user(
    user_id: int, body: UserUpdate, session: DbSession,
    _: Annotated[Principal, Depends(require("users:manage"))],
) -> UserOut:
    user = service.get_user_by_id(session, user_id=user_id)
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return UserOut.model_validate(service.update_user(session, user=user, **changes))


@router.post("/users/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT, tags=["users"],
             summary="Reset a user's password (signs them out everywhere)")
def reset_password(
    user_id: int, body: PasswordReset, session: DbSession,
    _: Annotated[Principal, Depends(require("users:manage"))],
) -> None:
    user = service.get_user_by_id(session, user_id=user_id)
    service.set_password(session, user=user, password=body.password)
