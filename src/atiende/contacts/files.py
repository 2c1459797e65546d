"""Reading an import file without holding it in memory: format and encoding detection, rows one
at a time (CSV with ``;`` or ``,``, UTF-8 with or without BOM or Latin-1; XLSX read-only), and
the cell checks that refuse a file outright (a formula)."""

import codecs
import csv
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atiende.errors import Invalid

PREVIEW_ROWS = 5
_SAMPLE_BYTES = 64 * 1024
_NUMBERISH = re.compile(r"^[+\-]?[\d\s().\-/]*$")


class ImportFormatInvalid(Invalid):
    code = "contact.import_format"

    def __init__(self, detail: str = "The file must be CSV or XLSX") -> None:
        super().__init__(detail, field="file")


class ImportTooLarge(Invalid):
    code = "contact.import_too_large"
    status_code = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The file is larger than {limit} bytes", field="file", extra={"limit": limit})


class ImportEmpty(Invalid):
    code = "contact.import_empty"

    def __init__(self) -> None:
        super().__init__("The file has no header and rows", field="file")


@dataclass(frozen=True)
class FileShape:
    file_format: str  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None


def shape_of(path: Path, filename: str) -> FileShape:
    """What the file is, from its name and first bytes."""
    lowered = filename.lower()
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE_BYTES)
    if lowered.endswith(".xlsx"):
        if not head.startswith(b"PK\x03\x04") or not zipfile.is_zipfile(path):
            raise ImportFormatInvalid("The .xlsx file is not a spreadsheet")
        return FileShape("xlsx")
    if not lowered.endswith((".csv", ".txt")):
        raise ImportFormatInvalid()
    if b"\x00" in head or head.startswith(b"PK\x03\x04"):
        raise ImportFormatInvalid("The .csv file is not text")
    encoding = _encoding(head)
    text = head.decode(encoding, errors="ignore")
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return FileShape("csv", encoding, delimiter)


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut by the sample's end
            return "utf-8"
        return "latin-1"


def rows(path: Path, shape: FileShape) -> Iterator[list[str]]:
    """Every row as stripped text cells, the header first; streamed (one row in memory at a time)."""
    if shape.file_format == "xlsx":
        yield from _xlsx_rows(path)
        return
    with path.open("r", encoding=shape.encoding or "utf-8", errors="replace", newline="") as handle:
        for row in csv.reader(handle, delimiter=shape.delimiter or ","):
            yield [cell.strip() for cell in row]


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportFormatInvalid("The .xlsx file could not be read") from exc
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_text(v) for v in values]
    finally:
        book.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def is_formula(cell: str) -> bool:
    """A cell a spreadsheet would run (``=cmd|' /C calc'!A0``, ``@SUM(…)``, ``+cmd|…``); phones and
    signed numbers (``+57 300…``, ``-5``) are not."""
    if not cell:
        return False
    if cell[0] == "=":
        return True
    return cell[0] in "+-@\t\r" and not _NUMBERISH.match(cell)


def preview(path: Path, shape: FileShape) -> tuple[list[str], list[list[str]]]:
    """The header (blank names become "columna N") and the first rows."""
    iterator = rows(path, shape)
    header = next(iterator, None)
    if not header or not any(header):
        raise ImportEmpty()
    names: list[str] = []
    for index, name in enumerate(header, start=1):
        name = name.lstrip("\ufeff").strip() or f"columna {index}"
        while name in names:
            name = f"{name} ({index})"
        names.append(name[:200])
    sample = []
    for row in iterator:
        sample.append(row)
        if len(sample) >= PREVIEW_ROWS:
            break
    return names, sample
