"""Lists that users upload and download: read a CSV (UTF-8 or Latin-1; comma, semicolon or tab)
or an XLSX into a header and rows, normalise phone numbers to E.164, and write a CSV that Excel
opens safely (cells starting with ``= + - @`` and tabs/CRs are prefixed with ``'`` so they are not
run as formulas: CSV injection). The outbound sends read their audiences here; the contacts import
can too."""

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from openpyxl import load_workbook

from atiende.errors import Invalid

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?[0-9][0-9 .,]*$")


class ListFileInvalid(Invalid):
    code = "list.invalid_file"


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]  # each as long as the header, cells stripped


def read_table(filename: str, content: bytes) -> Table:
    """The file's first sheet: the first non-empty row names the columns; empty rows are dropped."""
    if len(content) > MAX_BYTES:
        raise ListFileInvalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB", field="file")
    lower = filename.lower()
    if lower.endswith(".xlsx"):
        raw = _read_xlsx(content)
    elif lower.endswith((".csv", ".txt")):
        raw = _read_csv(content)
    else:
        raise ListFileInvalid("Upload a .csv or .xlsx file", field="file")
    cells = [[_cell(c) for c in row] for row in raw]
    cells = [row for row in cells if any(row)]
    if not cells:
        raise ListFileInvalid("The file is empty", field="file")
    header = [h.strip() for h in cells[0]]
    while header and not header[-1]:
        header.pop()
    if not header or any(not h for h in header):
        raise ListFileInvalid("Every column of the first row needs a name", field="file")
    if len(set(h.lower() for h in header)) != len(header):
        raise ListFileInvalid("Two columns of the first row have the same name", field="file")
    rows = [(row + [""] * len(header))[:len(header)] for row in cells[1:]]
    if len(rows) > MAX_ROWS:
        raise ListFileInvalid(f"At most {MAX_ROWS} rows a file", field="file")
    return Table(header=header, rows=rows)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone typed as a number in Excel
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def _read_csv(content: bytes) -> list[Sequence[object]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    first = text.splitlines()[0] if text else ""
    try:
        dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # type: ignore[assignment]
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise ListFileInvalid(f"The CSV file cannot be read: {exc}", field="file") from exc


def _read_xlsx(content: bytes) -> list[Sequence[object]]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as exc:  # zipfile, XML and openpyxl's own errors: not a workbook
        raise ListFileInvalid("The file is not a readable .xlsx workbook", field="file") from exc


def to_e164(value: str, default_region: str | None = None) -> str:
    """``+573001234567`` from ``+57 300 123 4567``, ``573001234567`` or, with a default region
    (``CO``), ``300 123 4567``; ``ValueError`` if it is not a valid number."""
    text = (value or "").strip()
    if not text or len(text) > 32:
        raise ValueError("not a phone number")
    digits = "".join(ch for ch in text if ch.isdigit())
    candidates = [text] if text.startswith("+") else [text, f"+{digits}"]
    for candidate in candidates:
        region = default_region if not candidate.startswith("+") else None
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise ValueError("not a valid phone number")


def safe_cell(value: object) -> str:
    """``'=...``: a cell Excel would run as a formula is written as text. Plain numbers
    (``+573001234567``, ``-5``) are left alone: they are not formulas."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_START) and not _NUMBER.match(text) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_cell(h) for h in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read the accents right
