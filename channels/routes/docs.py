"""The API docs page (Swagger UI at ``/docs``) with its script and styles served by the gateway.

FastAPI's own docs pages load Swagger UI and ReDoc from a CDN, which leaves them blank on an offline
intranet; this is FastAPI's documented self-hosting recipe over the files vendored in ``static/docs``
(see its README for the version and licence). ReDoc (``/redoc``) is not served: even self-hosted, its
sidebar loads the Redocly logo from Redocly's CDN, with no option to turn that off.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

from channels.commit_first import CommitFirstRoute

ASSETS = "/static/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
SWAGGER_PARAMETERS = {"validatorUrl": None}
"""No validator badge: Swagger UI would otherwise send the schema to validator.swagger.io from a non-local host."""

router = APIRouter(route_class=CommitFirstRoute, include_in_schema=False)


def _root(request: Request) -> str:
    return request.scope.get("root_path", "")


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=root + request.app.openapi_url,
        title=f"{request.app.title} - API 文档",
        oauth2_redirect_url=root + OAUTH2_REDIRECT,
        swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS}/favicon-32x32.png",
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()
