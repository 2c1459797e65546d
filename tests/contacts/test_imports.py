"""Imports over HTTP with the real job: detection of separators and encodings, preview and
suggested mapping, a report line per row, no twins inside the file or against the directory,
idempotent re-runs, and files refused outright (format, size, no phone, formula)."""

import csv
import io

import httpx
import openpyxl
import pytest
from sqlalchemy import func, select

from atiende.auth.models import Role
from atiende.catalog.models import FieldType
from atiende.contacts.jobs import run_import
from atiende.conversations.models import Contact
from atiende.jobs import Worker
from tests.conversations.scenario import Scenario, build
from tests.factories import Factory

CSV_ROWS = [
    ["Nombre", "Teléfono", "Correo", "Cédula", "Ciudad", "Asesor"],
    ["Ana Pérez", "300 123 4567", "ana@example.com", "1020", "Cali", "{agent}"],
    ["Beto", "+57 310 999 8877", "", "", "Bogotá", ""],
    ["Ana otra vez", "3001234567", "", "", "", ""],  # a twin inside the file
    ["Carla", "12", "", "", "", ""],  # an invalid phone
    ["Dario", "3205550000", "no-es-correo", "", "", ""],
    ["Elsa", "3215550000", "", "", "", "nadie@example.com"],
    ["", "", "", "", "", ""],
    ["Fer", "3225550000", "", "", "", ""],
]


def csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


async def upload(sc: Scenario, content: bytes, filename: str = "contactos.csv") -> httpx.Response:
    return await sc.http.post("/api/v1/contacts/imports", files={"file": (filename, content, "text/csv")},
                              headers=sc.admin.headers)


async def run(sc: Scenario, worker: Worker, import_id: int, mapping: dict[str, str], **extra: object) -> dict:
    started = await sc.http.post(f"/api/v1/contacts/imports/{import_id}/start", json={"mapping": mapping, **extra},
                                 headers=sc.admin.headers)
    assert started.status_code == 202, started.text
    await worker.run_due()
    state = await sc.http.get(f"/api/v1/contacts/imports/{import_id}", headers=sc.admin.headers)
    return state.json()


async def report(sc: Scenario, import_id: int) -> list[list[str]]:
    response = await sc.http.get(f"/api/v1/contacts/imports/{import_id}/report.csv", headers=sc.admin.headers)
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


async def setup(http: httpx.AsyncClient, factory: Factory) -> tuple[Scenario, int]:
    sc = await build(http, factory, fields=[("ciudad", FieldType.text, False, {})])
    agent = await factory.person(sc.client_id, Role.agent, email="cartera@example.com")
    return sc, agent.membership_id


@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "utf-8-sig"), (",", "latin-1"), (",", "utf-8")])
async def test_a_csv_imports_with_a_report_per_row(http: httpx.AsyncClient, factory: Factory, worker: Worker,
                                                   delimiter: str, encoding: str) -> None:
    sc, agent_id = await setup(http, factory)
    rows = [[c.replace("{agent}", "cartera@example.com") for c in r] for r in CSV_ROWS]
    uploaded = await upload(sc, csv_bytes(rows, delimiter=delimiter, encoding=encoding))
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert body["columns"] == CSV_ROWS[0] and body["delimiter"] == delimiter
    assert body["preview"][0][0] == "Ana Pérez"
    assert body["suggested_mapping"] == {"Nombre": "name", "Teléfono": "phone", "Correo": "email",
                                         "Cédula": "document_id", "Ciudad": "attribute:ciudad",
                                         "Asesor": "exclusive_agent_email"}
    done = await run(sc, worker, body["id"], body["suggested_mapping"])
    assert done["status"] == "done", done
    assert (done["created"], done["updated"], done["duplicates"], done["refused"]) == (3, 0, 1, 3)
    assert done["total_rows"] == 8 and done["processed"] == 8
    lines = await report(sc, body["id"])
    assert lines[0] == ["fila", "resultado", "contacto", "columna", "motivo"]
    by_row = {int(r[0]): r for r in lines[1:]}
    assert by_row[2][1] == "creado" and by_row[4][1] == "omitido por duplicado" and by_row[4][2] == by_row[2][2]
    assert by_row[5][1:] == ["rechazado", "", "Teléfono", "teléfono inválido"]
    assert by_row[6][3:] == ["Correo", "correo inválido"]
    assert by_row[7][3:] == ["Asesor", "agente desconocido"]
    assert 8 not in by_row and by_row[9][1] == "creado"
    async with sc.database.session() as session:
        ana = await session.scalar(select(Contact).where(Contact.phone == "+573001234567"))
        assert ana is not None and ana.name == "Ana Pérez" and ana.exclusive_agent_id == agent_id
        assert ana.attributes == {"ciudad": "Cali"} and ana.document_id == "1020"


async def test_importing_again_updates_and_never_makes_twins(http: httpx.AsyncClient, factory: Factory,
                                                             worker: Worker) -> None:
    sc, _agent = await setup(http, factory)
    known = await sc.write("Hola", contact="wa-1", name="", phone="+573225550000")
    rows = [["telefono", "nombre"], ["3225550000", "Fer"], ["3001234567", "Ana"]]
    first = (await upload(sc, csv_bytes(rows))).json()
    done = await run(sc, worker, first["id"], {"telefono": "phone", "nombre": "name"})
    assert (done["created"], done["updated"]) == (1, 1)
    second = (await upload(sc, csv_bytes([["telefono", "nombre"], ["+57 300 1234567", "Ana María"]]))).json()
    again = await run(sc, worker, second["id"], {"telefono": "phone", "nombre": "name"})
    assert (again["created"], again["updated"]) == (0, 1)
    async with sc.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 2
        ana = await session.scalar(select(Contact).where(Contact.phone == "+573001234567"))
        assert ana is not None and ana.name == "Ana María"
    await run_import(worker.context, import_id=second["id"])  # a re-run of a finished job writes nothing
    assert (await sc.http.get(f"/api/v1/contacts/imports/{second['id']}", headers=sc.admin.headers)).json()["updated"] == 1
    assert known["conversation_id"]
    restarted = await sc.http.post(f"/api/v1/contacts/imports/{second['id']}/start",
                                   json={"mapping": {"telefono": "phone"}}, headers=sc.admin.headers)
    assert restarted.status_code == 409


async def test_an_xlsx_imports_too(http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    sc, _agent = await setup(http, factory)
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [["Nombre", "Celular"], ["Gina", "+57 300 111 2233"], ["Hugo", 5512345678]]:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    uploaded = await upload(sc, buffer.getvalue(), "lista.xlsx")
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["preview"] == [["Gina", "+57 300 111 2233"], ["Hugo", "5512345678"]]
    done = await run(sc, worker, uploaded.json()["id"], {"Nombre": "name", "Celular": "phone"}, default_region="MX")
    assert (done["created"], done["refused"]) == (2, 0)
    async with sc.database.session() as session:
        phones = set((await session.scalars(select(Contact.phone))).all())
        assert phones == {"+573001112233", "+525512345678"}


async def test_files_refused_outright_import_nothing(http: httpx.AsyncClient, factory: Factory, worker: Worker,
                                                     app) -> None:  # type: ignore[no-untyped-def]
    sc, _agent = await setup(http, factory)
    not_csv = await upload(sc, b"%PDF-1.4 ...", "lista.pdf")
    assert not_csv.status_code == 422 and not_csv.json()["code"] == "contact.import_format"
    fake_xlsx = await upload(sc, b"nombre,telefono\n", "lista.xlsx")
    assert fake_xlsx.status_code == 422 and fake_xlsx.json()["field"] == "file"
    empty = await upload(sc, b"", "vacio.csv")
    assert empty.status_code == 422 and empty.json()["code"] == "contact.import_empty"
    original = app.state.settings
    app.state.settings = original.model_copy(update={"contacts_import_max_bytes": 2048})
    try:
        big = await upload(sc, csv_bytes([["telefono"]] + [["3001234567"]] * 400))
        assert big.status_code == 413 and big.json()["code"] == "contact.import_too_large"
    finally:
        app.state.settings = original
    uploaded = (await upload(sc, csv_bytes([["nombre", "telefono"], ["Ana", "3001234567"],
                                            ["=cmd|' /C calc'!A0", "3001234568"]]))).json()
    no_phone = await sc.http.post(f"/api/v1/contacts/imports/{uploaded['id']}/start",
                                  json={"mapping": {"nombre": "name"}}, headers=sc.admin.headers)
    assert no_phone.status_code == 422 and no_phone.json()["code"] == "contact.import_no_phone"
    unknown = await sc.http.post(f"/api/v1/contacts/imports/{uploaded['id']}/start",
                                 json={"mapping": {"nombre": "attribute:nope", "telefono": "phone"}},
                                 headers=sc.admin.headers)
    assert unknown.status_code == 422 and unknown.json()["field"] == "mapping.nombre"
    failed = await run(sc, worker, uploaded["id"], {"nombre": "name", "telefono": "phone"})
    assert failed["status"] == "failed" and failed["error"] == "contact.import_formula"
    assert (failed["error_row"], failed["error_column"]) == (3, "nombre")
    async with sc.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 0


async def test_only_the_clients_supervisors_and_admins_see_an_import(http: httpx.AsyncClient, factory: Factory,
                                                                     worker: Worker) -> None:
    sc, _agent = await setup(http, factory)
    other = await build(http, factory)
    uploaded = (await upload(sc, csv_bytes([["telefono"], ["3001234567"]]))).json()
    url = f"/api/v1/contacts/imports/{uploaded['id']}"
    for path in (url, f"{url}/report.csv"):
        assert (await http.get(path, headers=other.admin.headers)).status_code == 404
    assert (await http.post(f"{url}/start", json={"mapping": {"telefono": "phone"}},
                            headers=other.admin.headers)).status_code == 404
    agent = await factory.person(sc.client_id, Role.agent)
    assert (await http.get(url, headers=agent.headers)).status_code == 404
    refused = await http.post("/api/v1/contacts/imports", files={"file": ("a.csv", b"telefono\n1\n", "text/csv")},
                              headers=agent.headers)
    assert refused.status_code == 403


async def test_two_imports_of_the_same_phones_at_once_make_no_twins(http: httpx.AsyncClient, factory: Factory,
                                                                   worker: Worker,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from atiende.contacts import jobs

    monkeypatch.setattr(jobs, "CHUNK_ROWS", 500)  # three chunks each, interleaved between the two imports
    sc, _agent = await setup(http, factory)
    rows = [["telefono", "nombre"]] + [[f"30{n:08d}", f"Persona {n}"] for n in range(1200)]
    ids = []
    for _ in range(2):
        uploaded = (await upload(sc, csv_bytes(rows))).json()
        started = await sc.http.post(f"/api/v1/contacts/imports/{uploaded['id']}/start",
                                     json={"mapping": {"telefono": "phone", "nombre": "name"}}, headers=sc.admin.headers)
        assert started.status_code == 202
        ids.append(uploaded["id"])
    await asyncio.gather(*(run_import(worker.context, import_id=i) for i in ids))
    states = [(await sc.http.get(f"/api/v1/contacts/imports/{i}", headers=sc.admin.headers)).json() for i in ids]
    assert all(s["status"] == "done" for s in states)
    assert sum(s["created"] for s in states) == 1200 and sum(s["updated"] for s in states) == 1200
    async with sc.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == 1200
        assert await session.scalar(select(func.count(func.distinct(Contact.phone)))) == 1200


async def test_an_import_column_opts_contacts_out_and_records_the_import_as_source(
        http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    from atiende.contacts import consent
    from atiende.contacts.models import ConsentChange

    sc, _agent = await setup(http, factory)
    rows = [["telefono", "baja"], ["3001234567", "sí"], ["3001234568", "no"], ["3001234569", "quizá"]]
    uploaded = (await upload(sc, csv_bytes(rows))).json()
    assert uploaded["suggested_mapping"] == {"telefono": "phone", "baja": "opt_out:whatsapp"}
    done = await run(sc, worker, uploaded["id"], uploaded["suggested_mapping"])
    assert (done["created"], done["refused"]) == (2, 1)
    by_row = {int(r[0]): r for r in (await report(sc, uploaded["id"]))[1:]}
    assert by_row[4][3:] == ["baja", "baja inválida (sí/no)"]
    async with sc.database.session() as session:
        yes = await session.scalar(select(Contact).where(Contact.phone == "+573001234567"))
        no = await session.scalar(select(Contact).where(Contact.phone == "+573001234568"))
        assert await consent.is_opted_out(session, yes.id, "whatsapp")
        assert not await consent.is_opted_out(session, no.id, "whatsapp")
        changes = (await session.scalars(select(ConsentChange))).all()
        assert [(c.contact_id, c.source, c.membership_id) for c in changes] == [
            (yes.id, "import", sc.admin.membership_id)]


async def test_a_file_longer_than_a_chunk_merges_by_phone_and_document_and_keeps_consent_in_file_order(
        http: httpx.AsyncClient, factory: Factory, worker: Worker) -> None:
    from atiende.contacts import consent
    from atiende.contacts.jobs import CHUNK_ROWS
    from atiende.contacts.models import ConsentChange

    sc, _agent = await setup(http, factory)
    await sc.write("Hola", contact="wa-1", name="Gabi", phone="+573225550000")
    async with sc.database.session() as session:
        known = await session.scalar(select(Contact).where(Contact.phone == "+573225550000"))
        known.document_id = "555"
        known_id = known.id
    header = ["telefono", "nombre", "documento", "baja"]
    rows = [header, ["3001234567", "Ana", "", "sí"]]
    rows += [[f"31{n:08d}", f"Persona {n}", "", ""] for n in range(CHUNK_ROWS)]  # Ana's repeat lands in chunk 2
    rows += [["300 123 4567", "Ana bis", "77", "no"],  # a repeat only fills blanks, and opts Ana in again
             ["", "Gabriela", "555", "sí"],  # no phone: the contact with that document
             ["", "Nadie", "999", ""]]  # no phone and an unknown document
    uploaded = (await upload(sc, csv_bytes(rows))).json()
    done = await run(sc, worker, uploaded["id"], {"telefono": "phone", "nombre": "name", "documento": "document_id",
                                                  "baja": "opt_out:whatsapp"})
    assert done["status"] == "done" and done["processed"] == CHUNK_ROWS + 4
    assert (done["created"], done["updated"], done["duplicates"], done["refused"]) == (CHUNK_ROWS + 1, 1, 1, 1)
    by_row = {int(r[0]): r for r in (await report(sc, uploaded["id"]))[1:]}
    assert len(by_row) == CHUNK_ROWS + 4
    last = CHUNK_ROWS + 2
    assert by_row[last + 1][1] == "omitido por duplicado" and by_row[last + 1][2] == by_row[2][2]
    assert by_row[last + 2][1:3] == ["actualizado", str(known_id)]
    assert by_row[last + 3][1:] == ["rechazado", "", "", "documento desconocido y sin teléfono"]
    async with sc.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(Contact)) == CHUNK_ROWS + 2
        ana = await session.scalar(select(Contact).where(Contact.phone == "+573001234567"))
        assert (ana.name, ana.document_id) == ("Ana", "77")
        gabi = await session.get(Contact, known_id)
        assert gabi.name == "Gabriela" and await consent.is_opted_out(session, known_id, "whatsapp")
        assert not await consent.is_opted_out(session, ana.id, "whatsapp")
        changes = (await session.scalars(select(ConsentChange).order_by(ConsentChange.id))).all()
        assert [(c.contact_id, c.opted_out, c.source) for c in changes] == [
            (ana.id, True, "import"), (ana.id, False, "import"), (known_id, True, "import")]
