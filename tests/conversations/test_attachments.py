"""An agent's attachments are files uploaded through Atiende; a conversation's files are served only
to who may read it, with their checked type."""

import httpx

from tests.conversations.scenario import build
from tests.factories import Factory
from tests.media import JPEG, download, upload

PAYLOAD = 'foto" onmouseover="alert(document.domain)" x="'


async def test_an_outside_url_is_refused_and_an_upload_is_accepted(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"external_resources": True})
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    refused = await sc.reply(ana, conversation_id, "Mire", attachments=[
        {"kind": "image", "url": "https://attacker.example/x.jpg", "name": PAYLOAD}])
    assert refused.status_code == 422
    assert refused.json()["field"] == "attachments.0.url" and refused.json()["code"] == "attachment.not_issued"
    photo = await upload(http, ana.headers, conversation_id, PAYLOAD + "x" * 300 + ".jpg")
    assert len(str(photo["name"])) <= 120 and photo["mime_type"] == "image/jpeg"
    sent = await sc.reply(ana, conversation_id, "Mire", attachments=[{**photo, "kind": "document"}])
    assert sent.status_code == 201, sent.text
    assert sent.json()["attachments"][0]["kind"] == "image"  # the stored file's type, not the claim


async def test_files_are_refused_by_content(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"external_resources": True})
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    for name, data, mime in [("x.svg", b"<svg onload=alert(1)>", "image/svg+xml"),
                             ("x.html", b"<script>alert(1)</script>", "text/html"),
                             ("x.jpg", b"<script>alert(1)</script>", "image/jpeg")]:
        response = await http.post(f"/api/v1/conversations/{conversation_id}/attachments", headers=ana.headers,
                                   files={"file": (name, data, mime)})
        assert response.status_code == 422 and response.json()["code"] == "attachment.file_refused", name


async def test_media_need_a_reader_of_the_conversation(http: httpx.AsyncClient, factory: Factory) -> None:
    sc = await build(http, factory, permissions={"external_resources": True})
    other = await build(http, factory)
    [ana] = await sc.hire(1)
    conversation_id = (await sc.write())["conversation_id"]
    photo = await upload(http, ana.headers, conversation_id)
    assert (await sc.reply(ana, conversation_id, "", attachments=[photo])).status_code == 201
    served = await download(http, sc.supervisor.headers, conversation_id, str(photo["url"]))
    assert served.status_code == 200 and served.content == JPEG
    assert served.headers["content-type"] == "image/jpeg" and served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "sandbox"
    assert (await download(http, other.admin.headers, conversation_id, str(photo["url"]))).status_code == 404
    plain = str(photo["url"]).removeprefix("http://127.0.0.1:8000")
    assert (await http.get(plain)).status_code == 404  # no grant
    assert (await http.get(plain + f"?c={conversation_id}&e=99999999999&s=forged")).status_code == 404
