"""Downloading a conversation's stored files the way an allowed reader does."""

import httpx


async def download(http: httpx.AsyncClient, headers: dict[str, str], conversation_id: int, url: str) -> httpx.Response:
    """``GET /api/v1/conversations/{id}/media/{name}`` for the file behind one of Atiende's media URLs."""
    name = url.split("?", 1)[0].rsplit("/", 1)[-1]
    return await http.get(f"/api/v1/conversations/{conversation_id}/media/{name}", headers=headers)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x11" * 300


async def upload(http: httpx.AsyncClient, headers: dict[str, str], conversation_id: int, name: str = "foto.jpg",
                 data: bytes = JPEG, mime: str = "image/jpeg") -> dict[str, object]:
    """An agent's file, uploaded to attach to a reply: the attachment to send."""
    response = await http.post(f"/api/v1/conversations/{conversation_id}/attachments", headers=headers,
                               files={"file": (name, data, mime)})
    assert response.status_code == 201, response.text
    attached: dict[str, object] = response.json()
    return attached
