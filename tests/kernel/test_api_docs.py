"""``/api/docs`` works offline: the page names no external host, and every asset it references is
served by the app itself."""

import re

import httpx


async def test_the_api_docs_load_every_asset_from_the_app_itself(http: httpx.AsyncClient) -> None:
    page = await http.get("/api/docs")
    assert page.status_code == 200
    html = page.text
    assert "SwaggerUIBundle" in html
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "the docs page names an external host"
    assets = set(re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html))
    assets |= set(re.findall(r"""url:\s*['"]([^'"]+)['"]""", html))
    assert {"/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/swagger-ui.css",
            "/api/openapi.json"} <= assets
    for asset in assets:
        response = await http.get(asset)
        assert response.status_code == 200, asset
        assert response.content, asset
    spec = (await http.get("/api/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    bundle = (await http.get("/api/docs/assets/swagger-ui-bundle.js")).text
    assert re.search(r'"5\.\d+\.\d+"', bundle)  # Swagger UI 5 is the one that reads OpenAPI 3.1
    assert (await http.get("/api/docs/oauth2-redirect")).status_code == 200
