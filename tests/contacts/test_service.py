"""The directory's entry points other domains call (outbound sends, imports): one contact per
phone and client whatever the format, blanks filled and never emptied, consent per channel kind
with its history, and ``contact.opted_out`` delivered to the client's webhooks."""

import asyncio

import pytest
from sqlalchemy import func, select

from atiende.contacts import consent
from atiende.contacts.models import ConsentChange
from atiende.contacts.service import PhoneInvalid, upsert_by_phone
from atiende.conversations.models import Contact
from atiende.db import Database
from atiende.integrations.dispatcher import WebhookDispatcher
from tests.factories import Tenant
from tests.integrations.receiver import LocalReceiver
from tests.integrations.test_webhooks import allow_localhost, subscribe


async def test_one_contact_per_phone_whatever_the_format(database: Database, tenant: Tenant,
                                                         other_tenant: Tenant) -> None:
    async with database.session() as session:
        first = await upsert_by_phone(session, tenant.client.id, "300 123 4567", name="Ana")
        again = await upsert_by_phone(session, tenant.client.id, "+57 (300) 123-4567", name="Ana María",
                                      attributes={"ciudad": "Cali"})
        elsewhere = await upsert_by_phone(session, other_tenant.client.id, "+573001234567")
        assert first.id == again.id and first.phone == "+573001234567"
        assert again.name == "Ana"  # a value is never replaced, only blanks are filled
        assert again.attributes == {"ciudad": "Cali"}
        assert elsewhere.id != first.id
        emptied = await upsert_by_phone(session, tenant.client.id, "3001234567", name="",
                                        attributes={"ciudad": ""})
        assert emptied.name == "Ana" and emptied.attributes == {"ciudad": "Cali"}
        mexican = await upsert_by_phone(session, tenant.client.id, "55 1234 5678", default_region="MX")
        assert mexican.phone == "+525512345678"
        with pytest.raises(PhoneInvalid):
            await upsert_by_phone(session, tenant.client.id, "12")


async def test_two_sessions_upserting_the_same_phone_make_one_contact(database: Database, tenant: Tenant) -> None:
    async def upsert(name: str) -> int:
        async with database.session() as session:
            return (await upsert_by_phone(session, tenant.client.id, "3109876543", name=name)).id

    ids = await asyncio.gather(*(upsert(f"N{i}") for i in range(4)))
    assert len(set(ids)) == 1
    async with database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Contact).where(
            Contact.phone == "+573109876543")) == 1


async def test_opt_out_per_channel_kind_is_recorded_once_and_reaches_the_webhook(
        http, app, database: Database, tenant: Tenant, crm: LocalReceiver,  # type: ignore[no-untyped-def]
        dispatcher: WebhookDispatcher) -> None:
    original = app.state.settings
    allow_localhost(app)
    try:
        created = await subscribe(http, tenant.admin.headers, tenant.client.id, crm.url, ["contact.opted_out"])
        assert created.status_code == 201, created.text
        async with database.session() as session:
            contact = await upsert_by_phone(session, tenant.client.id, "3001112233", name="Beto")
            assert not await consent.is_opted_out(session, contact.id, "whatsapp")
            await consent.opt_out(session, contact.id, "whatsapp", source="api")
            await consent.opt_out(session, contact.id, "whatsapp", source="api")  # nothing new
        async with database.session() as session:
            assert await consent.is_opted_out(session, contact.id, "whatsapp")
            assert not await consent.is_opted_out(session, contact.id, "webchat")
            changes = (await session.scalars(select(ConsentChange))).all()
            assert [(c.channel_kind, c.opted_out, c.source) for c in changes] == [("whatsapp", True, "api")]
        assert await dispatcher.run_due() == 1
        [payload] = crm.payloads
        assert payload["type"] == "contact.opted_out" and payload["client_id"] == tenant.client.id
        assert payload["data"] == {"contact_id": contact.id, "channel_kind": "whatsapp", "source": "api"}
        async with database.session() as session:
            await consent.opt_in(session, contact.id, "whatsapp", source="keyword")
        async with database.session() as session:
            assert not await consent.is_opted_out(session, contact.id, "whatsapp")
        assert await dispatcher.run_due() == 0  # opting in again is not an opt-out event
    finally:
        app.state.settings = original


def test_keywords_ignore_accents_case_and_punctuation() -> None:
    words_out, words_in = ["BAJA", "STOP", "NO MÁS MENSAJES"], ["ALTA", "START"]
    assert consent.keyword_of("¡No mas mensajes!", words_out, words_in) is True
    assert consent.keyword_of("  baja ", words_out, words_in) is True
    assert consent.keyword_of("Alta", words_out, words_in) is False
    assert consent.keyword_of("quiero darme de baja", words_out, words_in) is None


async def test_baja_opts_out_answers_and_alta_opts_in_again(http, factory) -> None:  # type: ignore[no-untyped-def]
    from tests.conversations.scenario import build

    sc = await build(http, factory)
    first = await sc.write("Hola", contact="c-77", phone="+573001234567")
    out = await sc.write("¡No más mensajes!", contact="c-77")
    assert out["conversation_id"] == first["conversation_id"]
    async with sc.database.session() as session:
        contact = (await session.get(Contact, (await sc.conversations())[0].contact_id))
        assert contact is not None and await consent.is_opted_out(session, contact.id, "api")
        changes = (await session.scalars(select(ConsentChange))).all()
        assert [(c.opted_out, c.source, c.membership_id) for c in changes] == [(True, "keyword", None)]
    texts = [(m.sender, m.text) for m in await sc.messages(first["conversation_id"])]
    assert ("system", "Listo, no te enviaremos más mensajes por este canal. Escribe ALTA para volver a recibirlos.") \
        in texts
    assert ("contact", "¡No más mensajes!") in texts  # the agents still see what the customer wrote
    saved = await http.put("/api/v1/contacts/settings", json={"opt_in_keywords": ["VOLVER"],
                                                              "opt_in_reply": "Bienvenido de nuevo"},
                           headers=sc.admin.headers)
    assert saved.status_code == 200, saved.text
    await sc.write("alta", contact="c-77")  # no longer a keyword of this client
    async with sc.database.session() as session:
        assert await consent.is_opted_out(session, contact.id, "api")
    await sc.write("Volver", contact="c-77")
    async with sc.database.session() as session:
        assert not await consent.is_opted_out(session, contact.id, "api")
    assert ("system", "Bienvenido de nuevo") in [(m.sender, m.text) for m in await sc.messages(first["conversation_id"])]
