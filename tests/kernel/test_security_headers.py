"""Security headers (issue 19.3): every answer says nosniff, a referrer policy and no framing; each
HTML page gets a Content-Security-Policy whose fresh nonce is on the scripts the server wrote and
on nothing a customer wrote. The NiceGUI pages themselves are checked in a real browser (no CSP
refusal while they work) in ``tests/ui/test_hostile_content.py``."""

import re

import httpx

from atiende.settings import Settings
from atiende.web_security import add_nonce

NONCE = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9_-]{20,})' 'unsafe-eval'")


def common_headers_are_set(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_an_html_page_gets_a_fresh_nonce_on_each_of_its_scripts(http: httpx.AsyncClient) -> None:
    first, second = await http.get("/api/docs"), await http.get("/api/docs")
    for page in (first, second):
        assert page.status_code == 200
        common_headers_are_set(page)
        nonce = NONCE.search(page.headers["content-security-policy"])
        assert nonce, page.headers["content-security-policy"]
        tags = re.findall(r"<script[^>]*>", page.text)
        assert tags and all(f'nonce="{nonce.group(1)}"' in tag for tag in tags), tags
        assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("style-src")[0]
        assert int(page.headers["content-length"]) == len(page.content)
    assert NONCE.search(first.headers["content-security-policy"]).group(1) != \
        NONCE.search(second.headers["content-security-policy"]).group(1)  # type: ignore[union-attr]


async def test_json_answers_and_errors_carry_the_headers_and_a_policy_that_runs_nothing(
        http: httpx.AsyncClient) -> None:
    for response in (await http.get("/healthz"), await http.get("/api/v1/campaigns"),
                     await http.post("/api/v1/auth/token", data={"username": "x@y.z", "password": "nope"})):
        common_headers_are_set(response)
        assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "strict-transport-security" not in response.headers  # the tests' public URL is not https


def test_a_script_tag_inside_a_script_gets_no_nonce() -> None:
    page = (b'<html><script type="importmap">{}</script><SCRIPT>boot()</SCRIPT>'
            b'<script type="module">const e = String.raw`{"text": "<script>alert(1)<\\/script>"}`;</script>'
            b'<p>&lt;script&gt;</p><scripts-list></scripts-list></html>')
    written = add_nonce(page, "abc")
    assert written.count(b'nonce="abc"') == 3
    assert b'"<script>alert(1)' in written  # the customer's text is left as it was
    assert b"<scripts-list>" in written


async def test_https_deployments_get_hsts(settings: Settings) -> None:
    from atiende.app import create_app

    app = create_app(settings.model_copy(update={"public_url": "https://atiende.example.com"}), with_ui=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        response = await client.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000"
