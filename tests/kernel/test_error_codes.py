"""Every refusal has a stable code, and the code has a text in Spanish and in English: the UIs
translate by code, so no service's English message has to reach a Spanish screen."""

import importlib
import pkgutil

import atiende
from atiende.errors import AtiendeError
from atiende.i18n import catalog


def _every_error_class() -> list[type[AtiendeError]]:
    for module in pkgutil.walk_packages(atiende.__path__, "atiende."):
        if ".migrations." not in module.name:
            importlib.import_module(module.name)
    found: list[type[AtiendeError]] = []
    pending = [AtiendeError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_error_class_has_a_code_with_a_spanish_and_an_english_text() -> None:
    classes = _every_error_class()
    assert len(classes) > 20
    missing = [(cls.__qualname__, cls.code, locale) for cls in classes for locale in ("es", "en")
               if f"errors.{cls.code}" not in catalog(locale)]
    assert missing == []


def test_a_subclass_names_its_own_code_not_its_parents() -> None:
    generic = {"bad_request", "not_found", "forbidden", "unauthorized", "conflict", "invalid", "too_many_requests"}
    borrowed = [cls.__qualname__ for cls in _every_error_class()
                if cls.__module__ != "atiende.errors" and cls.code in generic]
    assert borrowed == []


def test_the_console_shows_the_text_of_the_code_in_the_viewers_language() -> None:
    from atiende.campaigns.service import ChannelTaken
    from atiende.i18n import set_locale_source
    from atiende.ui.errors import describe

    error = ChannelTaken.__new__(ChannelTaken)
    AtiendeError.__init__(error, "A chosen channel already serves another active campaign", field="channels")
    try:
        set_locale_source(lambda: "es")
        assert describe(error) == [("channels", catalog("es")["errors.campaign.channel_in_use"])]
        set_locale_source(lambda: "en")
        assert describe(error)[0][1].startswith("A chosen channel already serves another active campaign")
    finally:
        set_locale_source(None)
