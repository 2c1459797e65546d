"""The knowledge base as a spreadsheet: CSV (UTF-8, comma or semicolon) or XLSX (openpyxl), one
entry a row. Columns: pregunta, frases (alternative phrasings separated by "|"), respuesta, enlace,
botones ("|"), categoria, activa (sí/no). English headers are read too."""

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook, load_workbook
from pydantic import ValidationError

from atiende.bots.models import KnowledgeEntry
from atiende.bots.schemas import MAX_ENTRIES, EntryCreate
from atiende.errors import Invalid

COLUMNS = ("pregunta", "frases", "respuesta", "enlace", "botones", "categoria", "activa")
_ALIASES = {"question": "pregunta", "phrasings": "frases", "answer": "respuesta", "link": "enlace",
            "buttons": "botones", "category": "categoria", "categoría": "categoria", "active": "activa"}
_FIELDS = {"pregunta": "question", "frases": "phrasings", "respuesta": "answer", "enlace": "link",
           "botones": "buttons", "categoria": "category", "activa": "active"}
MAX_BYTES = 5 * 1024 * 1024
SEPARATOR = "|"


def export_rows(entries: Iterable[KnowledgeEntry]) -> list[list[str]]:
    rows = [list(COLUMNS)]
    for e in entries:
        rows.append([e.question, f" {SEPARATOR} ".join(e.phrasings), e.answer, e.link or "",
                     f" {SEPARATOR} ".join(e.buttons), e.category, "sí" if e.active else "no"])
    return rows


def to_csv(entries: Iterable[KnowledgeEntry]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(export_rows(entries))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read the accents right


def to_xlsx(entries: Iterable[KnowledgeEntry]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Base de conocimiento"
    for row in export_rows(entries):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parse(filename: str, content: bytes) -> list[EntryCreate]:
    if len(content) > MAX_BYTES:
        raise Invalid("The file is larger than 5 MB", field="file")
    if filename.lower().endswith(".xlsx"):
        table = _read_xlsx(content)
    elif filename.lower().endswith((".csv", ".txt")):
        table = _read_csv(content)
    else:
        raise Invalid("Upload a .csv or .xlsx file", field="file")
    if not table:
        raise Invalid("The file is empty", field="file")
    header = [_ALIASES.get(h, h) for h in (str(c or "").strip().lower() for c in table[0])]
    if "pregunta" not in header or "respuesta" not in header:
        raise Invalid("The first row must name the columns: pregunta, respuesta (and frases, enlace, botones, "
                      "categoria, activa)", field="file")
    rows = [r for r in table[1:] if any(str(c or "").strip() for c in r)]
    if len(rows) > MAX_ENTRIES:
        raise Invalid(f"At most {MAX_ENTRIES} entries a file", field="file")
    return [_entry(index, dict(zip(header, row, strict=False))) for index, row in enumerate(rows, 1)]


def _entry(index: int, cells: dict[str, object]) -> EntryCreate:
    def text(column: str) -> str:
        value = cells.get(column)
        return "" if value is None else str(value).strip()

    def split(column: str) -> list[str]:
        return [part.strip() for part in text(column).split(SEPARATOR) if part.strip()]

    active = text("activa").lower() not in ("no", "n", "false", "0", "inactiva")
    body = {"question": text("pregunta"), "phrasings": split("frases"), "answer": text("respuesta"),
            "link": text("enlace") or None, "buttons": split("botones"), "category": text("categoria"),
            "active": active}
    try:
        return EntryCreate.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        column = next((c for c, f in _FIELDS.items() if f == error["loc"][0]), str(error["loc"][0]))
        raise Invalid(f"Row {index}, column {column}: {error['msg']}", field=f"rows.{index}.{error['loc'][0]}") \
            from exc


def _read_csv(content: bytes) -> list[Sequence[object]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    try:
        dialect = csv.Sniffer().sniff(text.splitlines()[0] if text else "", delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    return list(csv.reader(io.StringIO(text), dialect))


def _read_xlsx(content: bytes) -> list[Sequence[object]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl's own errors: not a workbook
        raise Invalid("The file is not a readable .xlsx workbook", field="file") from exc
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]
