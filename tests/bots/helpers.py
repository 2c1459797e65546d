"""An attention bot made through the API, with a small collections knowledge base."""

from typing import Any

import httpx

from tests.factories import Person

ENTRIES = [
    {"question": "¿Cómo pago mi factura?", "phrasings": ["medios de pago", "formas de pagar"],
     "answer": "Puedes pagar en línea en pagos.example.com o en cualquier banco.", "category": "Pagos",
     "buttons": ["¿Puedo pagar con tarjeta?"]},
    {"question": "¿Puedo pagar con tarjeta?", "phrasings": ["pago con tarjeta de crédito"],
     "answer": "Sí, aceptamos Visa y Mastercard.", "category": "Pagos"},
    {"question": "¿Cuál es el horario de atención?", "phrasings": ["a qué hora atienden"],
     "answer": "Atendemos de lunes a viernes de 8:00 a 17:00.", "category": "General",
     "link": "https://example.com/horarios"},
    {"question": "¿Puedo hacer un acuerdo de pago?", "phrasings": ["pagar en cuotas", "financiar la deuda"],
     "answer": "Sí, hasta 12 cuotas sin interés.", "category": "Cobranza"},
]


async def make_bot(http: httpx.AsyncClient, admin: Person, client_id: int, *, name: str = "Asistente",
                   entries: list[dict[str, Any]] = ENTRIES, **body: Any) -> dict[str, Any]:
    response = await http.post("/api/v1/attention-bots", headers=admin.headers,
                               json={"client_id": client_id, "name": name, **body})
    assert response.status_code == 201, response.text
    bot = response.json()
    ids = []
    for entry in entries:
        created = await http.post(f"/api/v1/attention-bots/{bot['id']}/entries", json=entry, headers=admin.headers)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    bot["entry_ids"] = ids
    return bot


async def set_menu(http: httpx.AsyncClient, admin: Person, bot: dict[str, Any]) -> None:
    ids = bot["entry_ids"]
    menu = [{"label": "Pagos", "kind": "submenu", "options": [
                {"label": "Cómo pagar", "kind": "answer", "entry_id": ids[0]},
                {"label": "Acuerdos de pago", "kind": "answer", "entry_id": ids[3]}]},
            {"label": "Horario", "kind": "answer", "entry_id": ids[2]},
            {"label": "Hablar con un asesor", "kind": "handoff"}]
    response = await http.patch(f"/api/v1/attention-bots/{bot['id']}", json={"menu": menu}, headers=admin.headers)
    assert response.status_code == 200, response.text
