"""Staff sign-in, and what administrators manage: staff accounts and devices."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.deps import ServicesDep
from api.limits import OffLoopJSONRoute
from api.schemas import Problem
from api.staff_auth import COOKIE, Admin, AnyStaff, staff_token
from cases.staff import SESSION_HOURS

router = APIRouter(prefix="/v1", tags=["staff"], route_class=OffLoopJSONRoute)


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)


class Session(BaseModel):
    token: str = Field(description="Send as 'Authorization: Bearer <token>'; also set as cookie.")
    user: str
    role: str
    display_name: str


class Me(BaseModel):
    user: str
    role: str
    display_name: str


class NewUser(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9._-]{2,64}$")
    role: Literal["officer", "supervisor", "admin"]
    password: str = Field(min_length=8, max_length=200)
    display_name: str = Field(default="", max_length=100)  # the column's width


class NewDevice(BaseModel):
    device_id: str = Field(pattern=r"^[A-Za-z0-9._-]{3,64}$")
    owner: str = Field(min_length=1, max_length=200)
    model: str = Field(min_length=1, max_length=200)
    public_key: str | None = Field(
        default=None, max_length=64, description="Ed25519, base64; else generated."
    )


class DeviceCredentialOut(BaseModel):
    device_id: str
    key_id: str
    public_key: str
    private_key: str | None = Field(description="Only when generated here: shown once.")


@router.post("/staff/login", response_model=Session, responses={401: {"model": Problem}})
async def login(body: Login, response: Response, services: ServicesDep) -> Session:
    """Sign in; the token is valid for 12 hours (also set as an HttpOnly cookie for the desk)."""
    token, who = await run_in_threadpool(services.staff.login, body.username, body.password)
    response.set_cookie(
        COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict"
    )
    return Session(token=token, user=who.id, role=who.role, display_name=who.display_name)


@router.post("/staff/logout", status_code=204)
def logout(request: Request, response: Response, services: ServicesDep) -> None:
    """End this session."""
    token = staff_token(request)
    if token:
        services.staff.logout(token)
    response.delete_cookie(COOKIE)


@router.get("/staff/me", response_model=Me)
def me(caller: AnyStaff) -> Me:
    return Me(user=caller.id, role=caller.role, display_name=caller.display_name)


@router.post(
    "/staff/users", status_code=201, response_model=Me, responses={409: {"model": Problem}}
)
def add_user(body: NewUser, services: ServicesDep, caller: Admin) -> Me:
    """Create a staff account (administrators)."""
    try:
        services.staff.add_user(
            body.username, body.role, body.password, body.display_name, caller.owner
        )
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return Me(user=body.username, role=body.role, display_name=body.display_name or body.username)


@router.post(
    "/devices",
    status_code=201,
    response_model=DeviceCredentialOut,
    responses={409: {"model": Problem}},
)
def add_device(body: NewDevice, services: ServicesDep, caller: Admin) -> DeviceCredentialOut:
    """Register a dashcam and get its credential (administrators)."""
    try:
        cred = services.identity.register_device(
            body.device_id, body.owner, body.model, body.public_key, caller.owner
        )
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return DeviceCredentialOut(
        device_id=cred.device_id,
        key_id=cred.key_id,
        public_key=cred.public_key,
        private_key=cred.private_key,
    )


@router.post("/devices/{device_id}/revoke", status_code=204, responses={404: {"model": Problem}})
def revoke_device(device_id: str, services: ServicesDep, caller: Admin) -> None:
    """Revoke a device: its requests are refused from now on (administrators)."""
    try:
        services.identity.revoke_device(device_id, caller.owner)
    except ValueError as exc:
        raise HTTPException(404, str(exc)) from None
