"""``/api/docs`` without a CDN: Swagger UI (version 5, which reads the OpenAPI 3.1 document FastAPI
writes) is served from the installed ``fastapi-offline`` package's static files, so the page works
on a machine with no internet access. Nothing is vendored into this repository."""

from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/api/docs"
ASSETS_URL = "/api/docs/assets"
OAUTH2_REDIRECT_URL = "/api/docs/oauth2-redirect"


def install_api_docs(app: FastAPI) -> None:
    """Mount the Swagger UI assets and the docs page (the app is built with ``docs_url=None``)."""
    assets = files("fastapi_offline") / "static"
    app.mount(ASSETS_URL, StaticFiles(directory=str(assets)), name="api-docs-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/api/openapi.json", title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_URL}/favicon.png", oauth2_redirect_url=OAUTH2_REDIRECT_URL,
            swagger_ui_parameters=app.swagger_ui_parameters)

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
