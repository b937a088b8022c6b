"""Staff callers (officer, supervisor, admin): a session token as ``Authorization: Bearer
rws_...`` or the review desk's ``rw_staff`` cookie, and the roles each endpoint admits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request

from api.deps import ServicesDep
from cases.staff import StaffCaller
from ingest.identity import AuthError

COOKIE = "rw_staff"


def staff_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.startswith("rws_"):
        return token.strip()
    return request.cookies.get(COOKIE)


async def staff(request: Request, services: ServicesDep) -> StaffCaller:
    token = staff_token(request)
    if not token:
        raise AuthError(401, "missing_credentials", "sign in as staff (POST /v1/staff/login)")
    return services.staff.verify(token)


def require(*roles: str) -> Callable[..., Awaitable[StaffCaller]]:
    async def check(caller: Annotated[StaffCaller, Depends(staff)]) -> StaffCaller:
        if caller.role not in roles:
            raise AuthError(403, "forbidden", f"for {' or '.join(roles)} only")
        return caller

    check.roles = roles  # type: ignore[attr-defined]
    return check


AnyStaff = Annotated[StaffCaller, Depends(require("officer", "supervisor", "admin"))]
Officer = Annotated[StaffCaller, Depends(require("officer"))]
Reviewer = Annotated[StaffCaller, Depends(require("officer", "supervisor"))]
"""Reads the queue and the cases: officers, and supervisors who oversee their decisions."""
Supervisor = Annotated[StaffCaller, Depends(require("supervisor", "admin"))]
Admin = Annotated[StaffCaller, Depends(require("admin"))]
