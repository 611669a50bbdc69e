"""The HTTP server: ``/health``, Prometheus ``/metrics``, the JSON API and the operator console.

Everything but ``/health``, ``/metrics`` and the login page needs a logged-in user whose roles
grant the route's permission (services/access/roles.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlmodel import Session

import labeling
from services.access.throttle import LoginThrottle
from services.monitoring import metrics
from services.parsing.pages import PageCache
from services.review import store
from services.runtime import Runtime
from services.settings import Settings
from services.web import api, console, labeling_api, labeling_pages, lifecycle, lifecycle_pages
from services.web import outbox as outbox_sources
from services.web.auth import Anyone, LoginRequired
from services.web.health import report as health_report
from services.web.outbox import Outbox

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'",
}


def create_app(settings: Settings, *, publish: bool = True) -> FastAPI:
    """``publish=False`` leaves decisions in the outbox (tests without a broker)."""
    rt = Runtime(settings)
    engine: Engine = rt.engine
    outbox = Outbox(engine, settings.broker, settings.max_message_bytes, outbox_sources.ALL) \
        if publish and settings.broker else None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if outbox:
            await outbox.start()
        try:
            yield
        finally:
            if outbox:
                await outbox.stop()

    # The API's description is behind login like the API itself.
    app = FastAPI(title="docflow", version="0.2.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_schema(who: Anyone) -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False)
    def api_docs(who: Anyone) -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="docflow API")

    app.state.login_throttle = LoginThrottle()
    app.state.engine, app.state.blobs, app.state.outbox = engine, rt.blobs, outbox
    app.state.ruleset, app.state.queue_policy = rt.ruleset, rt.queue_policy
    app.state.pages = PageCache(rt.blobs, settings.max_pages)
    app.state.registry, app.state.limits = rt.registry, rt.limits
    app.state.regex_timeout_s = settings.regex_timeout_s
    app.state.bootstrap, app.state.home = settings.broker, settings.home
    app.state.model_policy = rt.model_policy
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.mount("/labeling/static", StaticFiles(directory=Path(labeling.__file__).parent / "static"),
              name="labeling-static")
    app.include_router(api.router)
    app.include_router(console.router)
    app.include_router(labeling_api.router)
    app.include_router(labeling_pages.router)
    app.include_router(lifecycle.router)
    app.include_router(lifecycle_pages.router)

    @app.exception_handler(LoginRequired)
    async def login_first(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith(("/console", "/labeling")) and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", 303)
        return JSONResponse({"detail": exc.detail}, 401, headers=exc.headers)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/health")
    def health() -> JSONResponse:
        healthy, body = health_report(engine, settings.broker, settings.home)
        return JSONResponse(body, status_code=200 if healthy else 503)

    def queue_listing() -> dict:
        with Session(engine) as s:
            return store.listing(s, limit=0)

    def monitoring_listing() -> dict:
        with Session(engine) as s:
            return lifecycle.monitoring(s, detail=False) | lifecycle.overview(s)

    collectors = [metrics.QueueCollector(queue_listing), metrics.LifecycleCollector(monitoring_listing)]

    @app.get("/metrics")
    def prometheus() -> Response:
        body, content_type = metrics.render(collectors)
        return Response(body, media_type=content_type)

    return app
