"""What the bot did not understand is counted per way of asking, listed most asked first, and an
admin turns one into a phrasing of an entry or a new entry in one step; the bot then answers it."""

import httpx

from tests.bots.helpers import make_bot, set_menu
from tests.bots.test_flow import lines
from tests.conversations.scenario import build
from tests.factories import Factory, Tenant


async def test_misunderstood_questions_are_counted_listed_and_learnt(http: httpx.AsyncClient,
                                                                     factory: Factory) -> None:
    sc = await build(http, factory)
    bot = await make_bot(http, sc.admin, sc.client_id)
    await set_menu(http, sc.admin, bot)
    await sc.update_campaign(attention_bot_id=bot["id"], bot_max_misunderstandings=5)
    url = f"/api/v1/attention-bots/{bot['id']}/unanswered"
    await sc.write("Hola", contact="c-1")
    await sc.write("¿Tienen sucursal en Cali?", contact="c-1")
    await sc.write("Hola", contact="c-2")
    await sc.write("tienen sucursal en cali", contact="c-2")  # the same question, written otherwise
    await sc.write("no", contact="c-2")  # not a question: never listed
    await sc.write("quiero el certificado de afiliación", contact="c-2")

    page = (await http.get(url, headers=sc.admin.headers)).json()
    assert page["total"] == 2
    top, other = page["items"]
    assert (top["count"], top["text"]) == (2, "tienen sucursal en cali")  # the latest wording
    assert (other["count"], other["text"]) == (1, "quiero el certificado de afiliación")

    # A new entry from the top question; it leaves the list and the bot now answers it.
    learnt = await http.post(f"{url}/{top['id']}/learn", headers=sc.admin.headers,
                             json={"answer": "Sí, en Cali estamos en la Calle 5 # 10-20."})
    assert learnt.status_code == 200, learnt.text
    assert learnt.json()["question"] == "tienen sucursal en cali"
    # As a phrasing of an existing entry.
    as_phrasing = await http.post(f"{url}/{other['id']}/learn", headers=sc.admin.headers,
                                  json={"entry_id": bot["entry_ids"][0]})
    assert as_phrasing.status_code == 200, as_phrasing.text
    assert "quiero el certificado de afiliación" in as_phrasing.json()["phrasings"]
    assert (await http.get(url, headers=sc.admin.headers)).json()["total"] == 0

    conversation_id = (await sc.write("Hola", contact="c-3"))["conversation_id"]
    await sc.write("tienen sucursal en cali?", contact="c-3")
    assert (await lines(sc, conversation_id))[-1][1].startswith("Sí, en Cali estamos")


async def test_learning_is_validated_and_scoped_to_the_client(http: httpx.AsyncClient, factory: Factory,
                                                              other_tenant: Tenant) -> None:
    sc = await build(http, factory)
    bot = await make_bot(http, sc.admin, sc.client_id)
    await sc.update_campaign(attention_bot_id=bot["id"], bot_max_misunderstandings=5)
    await sc.write("Hola")
    await sc.write("¿venden seguros de vida?")
    url = f"/api/v1/attention-bots/{bot['id']}/unanswered"
    [question] = (await http.get(url, headers=sc.admin.headers)).json()["items"]

    both = await http.post(f"{url}/{question['id']}/learn", headers=sc.admin.headers,
                           json={"entry_id": bot["entry_ids"][0], "answer": "x"})
    assert both.status_code == 422
    missing = await http.post(f"{url}/999999/learn", headers=sc.admin.headers, json={"answer": "x"})
    assert missing.status_code == 404 and missing.json()["field"] == "question_id"
    foreign = await http.get(url, headers=other_tenant.admin.headers)
    assert foreign.status_code == 404
    agent = (await sc.hire(1))[0]
    assert (await http.get(url, headers=agent.headers)).status_code == 403

    dismissed = await http.delete(f"{url}/{question['id']}", headers=sc.admin.headers)
    assert dismissed.status_code == 204
    assert (await http.get(url, headers=sc.admin.headers)).json()["total"] == 0
