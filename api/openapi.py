"""The OpenAPI document as the server behaves: who may call each operation (security schemes)
and every error it can answer, each with the one error body (``Problem``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext

from api import auth, staff_auth
from api.schemas import Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
REASONS = {
    400: "Bad request (a NUL byte in the path, query string or a header; a body that does "
    "not match RW-Content-SHA256)",
    401: "No credentials, or credentials that do not verify",
    403: "Credentials of a role this operation does not admit",
    404: "No such resource (or not the caller's)",
    409: "Conflict with the resource's state",
    413: "The body is over its size limit",
    415: "Unsupported content type",
    422: "Invalid request: see `error` and, for fields, `errors`",
}
DEVICE_HEADERS = "RW-Device, RW-Key-Id, RW-Timestamp, RW-Nonce, RW-Content-SHA256"
SECURITY_SCHEMES: dict[str, Any] = {
    "reporterToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An app reporter's token (POST /v1/reporters).",
    },
    "deviceSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "RW-Signature",
        "description": f"A registered dashcam's Ed25519 signature, with {DEVICE_HEADERS} "
        "(docs/protocol.md, section 2).",
    },
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "rws_…",
        "description": "A staff session token (POST /v1/staff/login).",
    },
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": staff_auth.COOKIE,
        "description": "The review desk's session cookie, set by POST /v1/staff/login.",
    },
}


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from _calls(sub)


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every API operation with its full path (routers are included as they are)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def security_of(route: RouteContext) -> list[dict[str, list[str]]]:
    calls = set(_calls(route.dependant))
    if auth.reporter in calls:
        return [{"reporterToken": []}]
    if auth.caller in calls:
        return [{"deviceSignature": []}, {"reporterToken": []}]
    if staff_auth.staff in calls:
        return [{"staffToken": []}, {"staffSession": []}]
    return []


def error_statuses(route: RouteContext, security: list[dict[str, list[str]]]) -> set[int]:
    """The errors an operation can answer, from what it takes and who it admits."""
    dependant = route.dependant
    statuses = {int(code) for code in route.responses if str(code).isdigit()}
    statuses = {code for code in statuses if code >= 400}
    statuses.add(400)  # refuse.RefuseNul answers it before any route runs
    if security:
        statuses |= {401, 403}
    if dependant.path_params:
        statuses.add(404)
    if dependant.path_params or dependant.query_params or dependant.body_params:
        statuses.add(422)
    if dependant.header_params:
        statuses.add(422)
    if dependant.body_params:
        statuses |= {413, 422}
        if {"deviceSignature": []} in security:
            statuses.add(400)
    return statuses


def _document(schema: dict[str, Any], app: FastAPI) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in api_routes(app):
        security = security_of(route)
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            if security:
                operation["security"] = security
            responses = operation.setdefault("responses", {})
            if method == "HEAD":  # an answer to HEAD has headers only
                for code, entry in responses.items():
                    if code.startswith("2"):
                        entry.pop("content", None)
            documented = {int(code) for code in responses if code.isdigit() and code >= "400"}
            for status in sorted(error_statuses(route, security) | documented):
                entry = responses.setdefault(str(status), {})
                entry.setdefault("description", REASONS.get(status, "Refused"))
                entry["content"] = {"application/json": {"schema": PROBLEM_REF}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with the documented version (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _document(schema, app)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
