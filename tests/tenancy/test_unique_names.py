"""A name unique within its parent is compared as people read it (NFKC, case folded, spaces
collapsed) on SQLite and PostgreSQL alike, and a duplicate is a 409 naming the field, never a 500,
also when many writers race for one name (issue 21.3)."""

import asyncio
from typing import Any

import httpx
import pytest

from atiende.auth.models import Role
from tests.factories import Factory, Person, Tenant


@pytest.fixture
async def root(factory: Factory, tenant: Tenant) -> Person:
    return await factory.person(tenant.client.id, Role.admin, superuser=True)


async def create_client(http: httpx.AsyncClient, root: Person, name: str) -> httpx.Response:
    return await http.post("/api/v1/clients", headers=root.headers, json={"name": name})


def assert_taken(response: httpx.Response, field: str = "name") -> None:
    assert response.status_code == 409, response.text
    assert response.json()["field"] == field and response.json()["code"].endswith(f"{field}_taken")


async def test_a_client_name_twice_is_a_409_whatever_its_capitals_or_spacing(http: httpx.AsyncClient,
                                                                             root: Person) -> None:
    assert (await create_client(http, root, "Éxito Ltda")).status_code == 201
    assert_taken(await create_client(http, root, "Éxito Ltda"))
    assert_taken(await create_client(http, root, "éxito ltda"))  # SQLite's lower() leaves É alone
    assert_taken(await create_client(http, root, "ÉXITO   LTDA"))
    assert_taken(await create_client(http, root, "E\u0301xito Ltda"))  # É written as E + combining accent
    assert (await create_client(http, root, "Exito Ltda")).status_code == 201  # without the accent: another name
    listed = (await http.get("/api/v1/clients", headers=root.headers)).json()["items"]
    assert sorted(c["name"] for c in listed if "xito" in c["name"]) == ["Exito Ltda", "Éxito Ltda"]


async def test_renaming_a_client_onto_another_clients_name_is_a_409(http: httpx.AsyncClient, root: Person) -> None:
    first = (await create_client(http, root, "Straße Norte")).json()
    second = (await create_client(http, root, "Avenida Sur")).json()
    renamed = await http.patch(f"/api/v1/clients/{second['id']}", headers=root.headers,
                               json={"name": "STRASSE NORTE"})  # ß folds to ss
    assert_taken(renamed)
    own = await http.patch(f"/api/v1/clients/{first['id']}", headers=root.headers, json={"name": "STRASSE norte"})
    assert own.status_code == 200 and own.json()["name"] == "STRASSE norte"  # its own name, written anew


async def test_many_concurrent_creates_of_one_client_name_give_one_201_and_409s(http: httpx.AsyncClient,
                                                                              root: Person) -> None:
    answers = await asyncio.gather(*(create_client(http, root, "Carrera Ñandú" if n % 2 else "carrera ñandú")
                                     for n in range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 19, [a.text for a in answers if a.status_code not in (201, 409)]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["field"] == "name"


# --- every name unique within a client (or a project) ----------------------------------------

def bodies(client_id: int) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """path, the unique field, and a body without that field."""
    return {
        "project": ("/api/v1/projects", "name", {}),
        "schedule": ("/api/v1/schedules", "name", {"timezone": "America/Bogota",
                                                   "bands": [{"weekday": 0, "start": "08:00", "end": "17:00"}]}),
        "typification": ("/api/v1/typifications", "code", {"name": "Venta"}),
        "field_definition": ("/api/v1/field-definitions", "key", {"label": "Cédula", "type": "text"}),
        "funnel": ("/api/v1/funnels", "name", {"stages": [{"name": "Nuevo"}]}),
        "survey_bot": ("/api/v1/survey-bots", "name", {"questions": [{"kind": "rating", "text": "¿?"}]}),
        "attention_bot": ("/api/v1/attention-bots", "name", {}),
        "channel": ("/api/v1/channels", "name", {"kind": "webchat"}),
        "canned_reply": ("/api/v1/canned-replies", "shortcut", {"title": "Saludo", "text": "Hola"}),
    }


SPELLINGS = {"name": ("Cobranza Ñ", "COBRANZA  ñ"), "code": ("VENTA-1", "venta-1"), "key": ("cedula_n", "CEDULA_N"),
             "shortcut": ("saludo", "SALUDO")}


@pytest.mark.parametrize("kind", list(bodies(1)))
async def test_a_second_item_with_the_same_folded_name_is_a_409_in_its_client_only(
        http: httpx.AsyncClient, tenant: Tenant, other_tenant: Tenant, kind: str) -> None:
    path, field, body = bodies(tenant.client.id)[kind]
    first, second = SPELLINGS[field]

    async def post(who: Tenant, value: str) -> httpx.Response:
        return await http.post(path, headers=who.admin.headers,
                               json={"client_id": who.client.id, **body, field: value})

    created = await post(tenant, first)
    assert created.status_code == 201, created.text
    assert_taken(await post(tenant, second), field)
    assert (await post(other_tenant, second)).status_code == 201  # another client's names are its own
    other = await post(tenant, "Otro-1" if field != "shortcut" else "otro")
    assert other.status_code == 201, other.text
    renamed = await http.patch(f"{path}/{other.json()['id']}", headers=tenant.admin.headers, json={field: second})
    assert_taken(renamed, field)


async def test_campaign_names_are_folded_within_their_project(http: httpx.AsyncClient, factory: Factory,
                                                              tenant: Tenant) -> None:
    setup = await factory.campaign_setup(tenant.client.id)  # type: ignore[attr-defined]
    no_channels = {"channels": {"configure_later": True, "channel_ids": []}}
    created = await http.post("/api/v1/campaigns", headers=tenant.admin.headers,
                              json=setup.body(name="Cobranza Ñ", **no_channels))
    assert created.status_code == 201, created.text
    assert_taken(await http.post("/api/v1/campaigns", headers=tenant.admin.headers,
                                 json=setup.body(name="cobranza   ñ", **no_channels)))


def test_the_migration_keeps_rows_that_already_folded_alike(db_base: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Before 0042, "Cobranza" and "cobranza" could both be projects of one client: both stay."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    from atiende import migrate
    from tests.conftest import fresh_database

    async def run(url: str, *statements: str) -> list[tuple]:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                result = None
                for statement in statements:
                    result = await conn.execute(text(statement))
                return list(result.all()) if result is not None and result.returns_rows else []
        finally:
            await engine.dispose()

    with fresh_database(tmp_path, db_base) as url:
        migrate.downgrade(url, "0027")
        asyncio.run(run(url, "INSERT INTO clients (name, plan_name, plan_seats, plan_max_history_hours, "
                             "default_agent_capacity, timezone, active, created_at, updated_at) "
                             "VALUES ('Éxito', 'E', 1, 1, 1, 'UTC', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                        *(f"INSERT INTO projects (client_id, name, description, active, created_at, updated_at) "
                          f"VALUES (1, '{name}', '', true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                          for name in ("Cobranza", "cobranza", "Ventas"))))
        migrate.upgrade(url)
        rows = asyncio.run(run(url, "SELECT name, name_folded FROM projects ORDER BY id"))
        assert rows == [("Cobranza", "cobranza"), ("cobranza", "cobranza #2"), ("Ventas", "ventas")]
        assert asyncio.run(run(url, "SELECT name_folded FROM clients")) == [("éxito",)]
        migrate.downgrade(url, "0027")  # and back: the names were never touched
        assert asyncio.run(run(url, "SELECT name FROM projects ORDER BY id")) == [
            ("Cobranza",), ("cobranza",), ("Ventas",)]
