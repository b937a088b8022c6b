"""The FastAPI application, built by :func:`create_app` from settings."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import (
    desk_routes,
    errors,
    limits,
    offload,
    openapi,
    ops,
    refuse,
    routes_abuse,
    routes_cases,
    routes_direct,
    routes_events,
    routes_report_page,
    routes_reports,
    routes_rewards,
    routes_staff,
    routes_submissions,
)
from cases.services import Services
from settings import VERSION as __version__
from settings import Settings, load_settings

MULTIPART_OVERHEAD = 64 * 1024
log = logging.getLogger(__name__)


HOUSEKEEPING_S = 300.0


async def _housekeeping(services: Services) -> None:
    """Complete uploads whose completion a crash cut short, expire idle uploads (deleting
    their staged bytes) and forget old nonces."""
    while True:
        try:
            await asyncio.to_thread(services.uploads.complete_stalled)
            await asyncio.to_thread(services.uploads.expire)
            await asyncio.to_thread(services.identity.prune_nonces)
            await asyncio.to_thread(routes_direct.housekeep, services)
        except Exception:  # a database blink must not end housekeeping
            log.exception("housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING_S)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = app.state.services = Services.build(settings)
        offload.warm_up()
        # What start-up made lives as long as the process: out of the collector's sight, a
        # full collection no longer walks every module's objects (tens of ms each time).
        gc.collect()
        gc.freeze()
        janitor = asyncio.create_task(_housekeeping(services))
        try:
            yield
        finally:
            janitor.cancel()
            services.close()

    app = FastAPI(
        title="roadwitness",
        version=__version__,
        lifespan=lifespan,
        description="Evidence of traffic violations in; cases an officer can confirm out.",
    )

    # Refuse an upload that announces itself as too large before reading any of it.
    app.add_middleware(
        limits.UploadLimit, limit=settings.max_upload_bytes, overhead=MULTIPART_OVERHEAD
    )

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    ops.install(app, settings.max_queue_depth, settings.busy_retry_after_s)
    errors.install(app)
    openapi.install(app)
    app.add_middleware(
        limits.BodyLimit,
        json_limit=settings.max_json_bytes,
        event_limit=settings.max_event_bytes,
    )
    app.add_middleware(refuse.RefuseNul)  # outermost: before any route or middleware reads
    app.include_router(routes_events.router)
    app.include_router(routes_reports.router)
    app.include_router(routes_submissions.router)
    app.include_router(routes_cases.router)
    app.include_router(routes_staff.router)
    app.include_router(routes_rewards.router)
    app.include_router(desk_routes.router)
    app.include_router(routes_abuse.router)
    app.include_router(ops.router)
    app.include_router(routes_direct.router)
    app.include_router(routes_report_page.router)
    return app
