"""Message templates: read Meta's template list, tell which parameters a template needs, and build
the ``components`` of a template send from the values an agent typed (pure, no I/O).

A template's text marks parameters as ``{{1}}``, ``{{2}}`` (positional) or ``{{name}}`` (named).
Parameters go in the header (text, or a media link for IMAGE/VIDEO/DOCUMENT headers), the body,
and URL buttons with a dynamic suffix.
"""

import re
from dataclasses import dataclass, field
from typing import Any

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]{1,60})\s*\}\}")
MEDIA_HEADERS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}


class TemplateParameterError(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class UrlButton:
    index: int
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    status: str
    category: str
    components: tuple[dict[str, Any], ...]
    provider_id: str = ""

    def _component(self, kind: str) -> dict[str, Any]:
        return next((c for c in self.components if str(c.get("type", "")).upper() == kind), {})

    @property
    def approved(self) -> bool:
        return self.status.upper() == "APPROVED"

    @property
    def header_format(self) -> str | None:
        header = self._component("HEADER")
        return str(header.get("format", "TEXT")).upper() if header else None

    @property
    def header_parameters(self) -> tuple[str, ...]:
        header = self._component("HEADER")
        return _placeholders(header.get("text")) if self.header_format == "TEXT" else ()

    @property
    def body_text(self) -> str:
        text = self._component("BODY").get("text")
        return text if isinstance(text, str) else ""

    @property
    def body_parameters(self) -> tuple[str, ...]:
        return _placeholders(self.body_text)

    @property
    def url_buttons(self) -> tuple[UrlButton, ...]:
        buttons = self._component("BUTTONS").get("buttons")
        found = []
        for index, button in enumerate(buttons if isinstance(buttons, list) else []):
            if isinstance(button, dict) and str(button.get("type", "")).upper() == "URL":
                params = _placeholders(button.get("url"))
                if params:
                    found.append(UrlButton(index=index, parameters=params))
        return tuple(found)


def _placeholders(text: Any) -> tuple[str, ...]:
    if not isinstance(text, str):
        return ()
    seen: list[str] = []
    for name in _PLACEHOLDER.findall(text):
        if name not in seen:
            seen.append(name)
    return tuple(seen)


def parse_templates(body: Any) -> list[Template]:
    """Meta's ``GET /{waba}/message_templates`` page: ``{"data": [...], "paging": {...}}``."""
    items = body.get("data") if isinstance(body, dict) else None
    templates = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) \
                or not isinstance(item.get("language"), str):
            continue
        components = tuple(c for c in item.get("components") or [] if isinstance(c, dict))
        templates.append(Template(name=item["name"][:512], language=item["language"][:20],
                                  status=str(item.get("status", ""))[:40],
                                  category=str(item.get("category", ""))[:40], components=components,
                                  provider_id=str(item.get("id", ""))[:64]))
    return templates


@dataclass
class TemplateValues:
    """What the agent filled in. Lists follow the order the template names its parameters."""

    body: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    header_media_url: str | None = None
    header_media_id: str | None = None
    header_filename: str | None = None
    buttons: list[str] = field(default_factory=list)  # one value per dynamic URL button, in order


def _text_parameters(names: tuple[str, ...], values: list[str], where: str) -> list[dict[str, Any]]:
    if len(values) != len(names):
        raise TemplateParameterError(f"the template's {where} takes {len(names)} parameter(s), got {len(values)}",
                                     field=where)
    for value in values:
        if not value.strip():
            raise TemplateParameterError(f"{where} parameters cannot be empty", field=where)
    named = any(not n.isdigit() for n in names)
    return [{"type": "text", "parameter_name": n, "text": v} if named else {"type": "text", "text": v}
            for n, v in zip(names, values, strict=True)]


def build_components(template: Template, values: TemplateValues) -> list[dict[str, Any]]:
    """The ``template.components`` of the send request, or ``TemplateParameterError`` naming the field."""
    components: list[dict[str, Any]] = []
    header_format = template.header_format
    if header_format in MEDIA_HEADERS:
        media_type = MEDIA_HEADERS[header_format]
        if not values.header_media_url and not values.header_media_id:
            raise TemplateParameterError(f"this template's header needs a {media_type}", field="header_media_url")
        media: dict[str, Any] = ({"link": values.header_media_url} if values.header_media_url
                                 else {"id": values.header_media_id})
        if media_type == "document" and values.header_filename:
            media["filename"] = values.header_filename
        components.append({"type": "header", "parameters": [{"type": media_type, media_type: media}]})
    elif template.header_parameters or values.header:
        components.append({"type": "header", "parameters": _text_parameters(
            template.header_parameters, values.header, "header")})
    if template.body_parameters or values.body:
        components.append({"type": "body", "parameters": _text_parameters(
            template.body_parameters, values.body, "body")})
    buttons = template.url_buttons
    if len(values.buttons) != len(buttons):
        raise TemplateParameterError(f"the template has {len(buttons)} dynamic URL button(s), "
                                     f"got {len(values.buttons)} value(s)", field="buttons")
    for button, value in zip(buttons, values.buttons, strict=True):
        if not value.strip():
            raise TemplateParameterError("button parameters cannot be empty", field="buttons")
        components.append({"type": "button", "sub_type": "url", "index": str(button.index),
                           "parameters": [{"type": "text", "text": value}]})
    return components


def preview(template: Template, values: TemplateValues) -> str:
    """The body as the customer reads it, for the conversation history."""
    names = template.body_parameters
    lookup = dict(zip(names, values.body, strict=False))
    return _PLACEHOLDER.sub(lambda m: lookup.get(m.group(1), m.group(0)), template.body_text) or template.name
