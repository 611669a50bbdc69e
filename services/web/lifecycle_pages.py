"""The console's model registry and monitoring pages (data from services/web/lifecycle.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.monitoring.series import SERIES
from services.web.auth import Read
from services.web.charts import line_chart
from services.web.console import page
from services.web.lifecycle import db, monitoring, overview, show_model

router = APIRouter()


@router.get("/console/monitoring", include_in_schema=False)
def monitoring_page(request: Request, who: Read, scope: str | None = None) -> HTMLResponse:
    with db(request) as s:
        data = monitoring(s, scope)
        models = overview(s)
    series = data["series"]
    span = (series[0]["start"][11:16], series[-1]["start"][11:16]) if series else ("", "")
    charts = [line_chart(title, [b.get(name) for b in series], unit, span) for name, title, unit in SERIES]
    return page(request, "monitoring.html", who, data=data, charts=charts, models=models, scope=scope or "")


@router.get("/console/models", include_in_schema=False)
def models_page(request: Request, who: Read) -> HTMLResponse:
    with db(request) as s:
        data = overview(s)
    return page(request, "models.html", who, data=data)


@router.get("/console/models/{version}", include_in_schema=False)
def model_page(request: Request, version: str, who: Read) -> HTMLResponse:
    return page(request, "model.html", who, found=show_model(request, version, who))
