"""The console speaks Spanish by default and English on request, and every string a person reads
comes from the locale catalogs: both catalogs hold the same keys, every key the code names
exists, and no screen passes a hard-coded sentence to a widget."""

import ast
import re
import string
from pathlib import Path

import pytest

from atiende import i18n
from atiende.auth.models import Role
from atiende.campaigns.models import AssignmentMethod, OutOfHoursAction
from atiende.campaigns.service import TYPIFICATION_SLOTS
from atiende.catalog.models import FieldType, QuestionKind
from atiende.channels.models import ChannelKind
from atiende.ui.console.campaign_form import PERMISSION_SWITCHES, TABS
from atiende.ui.console.campaigns import PREREQUISITES
from atiende.ui.console.channels import FORM_FIELDS
from atiende.ui.console.fields import RULES
from atiende.ui.navigation import SECTIONS

UI = Path(i18n.__file__).resolve().parents[1] / "ui"
WIDGETS = {"label", "button", "input", "textarea", "number", "select", "switch", "checkbox", "radio", "notify",
           "link", "tab", "menu_item", "item_label", "chip", "badge", "tooltip", "page_title", "markdown", "html"}
ALLOWED_LITERALS = {"Atiende"}  # the product's name is the same in every language


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogs_have_the_same_keys_and_placeholders() -> None:
    spanish, english = i18n.catalog("es"), i18n.catalog("en")
    assert sorted(set(spanish) ^ set(english)) == []
    different = [key for key in spanish if _placeholders(spanish[key]) != _placeholders(english[key])]
    assert different == []
    assert [key for key, text in {**spanish, **english}.items() if not text.strip()] == []


def _ui_modules() -> list[Path]:
    return sorted(UI.rglob("*.py"))


def _literal_keys() -> set[str]:
    keys: set[str] = set()
    for path in _ui_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t"
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                keys.add(node.args[0].value)
    return keys


def test_every_key_the_console_names_is_in_the_catalog() -> None:
    keys = _literal_keys()
    assert len(keys) > 100
    assert sorted(keys - set(i18n.catalog("es"))) == []


def test_keys_built_from_enums_and_tables_exist() -> None:
    families = [
        *(f"nav.{e.key}" for s in SECTIONS for e in s.entries), *(f"nav.section.{s.key}" for s in SECTIONS),
        *(f"role.{r.value}" for r in Role), *(f"channel_kind.{k.value}" for k in ChannelKind),
        *(f"field_type.{k.value}" for k in FieldType), *(f"question_kind.{k.value}" for k in QuestionKind),
        *(f"assignment.{m.value}" for m in AssignmentMethod), *(f"assignment_help.{m.value}" for m in AssignmentMethod),
        *(f"campaign.action.{a.value}" for a in OutOfHoursAction),
        *(f"campaign.action_help.{a.value}" for a in OutOfHoursAction),
        *(f"campaign.tab.{tab}" for tab in TABS), *(f"campaign.typification.{slot}" for slot in TYPIFICATION_SLOTS),
        *(f"permission.{p}" for p in PERMISSION_SWITCHES), *(f"permission_help.{p}" for p in PERMISSION_SWITCHES),
        "permission.history_hours", *(f"weekday.{d}" for d in range(7)), *(f"locale.{code}" for code in i18n.LOCALES),
        *(f"campaigns.needs.{key}" for key in PREREQUISITES), *(f"{key}.create_first" for key in PREREQUISITES),
        *(f"channel_field.{key}" for fields in FORM_FIELDS.values() for _, key, _ in fields),
        *(f"field_rule.{rule}" for rules in RULES.values() for rule, _ in rules),
    ]
    screens = ["projects", "users", "channels", "schedules", "typifications", "fields", "funnels", "survey_bots"]
    families += [f"{screen}.{part}" for screen in screens for part in ("title", "subtitle", "empty", "create_first")]
    assert sorted(set(families) - set(i18n.catalog("es"))) == []


def _hard_coded(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WIDGETS):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Name) and owner.id == "ui") and node.func.attr not in {"tooltip", "notify"}:
            continue
        shown = node.args[:1] if node.func.attr != "tab" else []  # a tab's first argument is its name, not text
        texts = shown + [k.value for k in node.keywords if k.arg in {"text", "label", "message"}]
        for arg in texts:
            if (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search(r"[A-Za-zÁÉÍÓÚáéíóúñÑ]{2}",
                                                                                          arg.value)
                    and arg.value not in ALLOWED_LITERALS):
                found.append(f"{path.relative_to(UI)}:{node.lineno}: {arg.value!r}")
    return found


def test_no_screen_hard_codes_a_sentence() -> None:
    problems = [problem for path in _ui_modules() for problem in _hard_coded(path)]
    assert problems == []


@pytest.mark.parametrize(("locale", "section", "seats"), [("es", "Configuración", "3 de 4 licencias usadas"),
                                                         ("en", "Settings", "3 of 4 licenses used")])
def test_texts_follow_the_locale(locale: str, section: str, seats: str) -> None:
    assert i18n.translate(locale, "nav.section.config") == section
    assert i18n.translate(locale, "users.seats", used=3, total=4) == seats
