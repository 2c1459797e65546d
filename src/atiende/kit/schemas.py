"""Reusable field types for API schemas: bounded ids and text that every database accepts."""

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints

MAX_ID = 2**31 - 1


def storable(value: str | None) -> str | None:
    """PostgreSQL refuses NUL bytes and lone surrogates; refuse them here with a 422 instead of a 500."""
    if value is None:
        return None
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
                 AfterValidator(storable)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(storable)]
LongText = Annotated[str, StringConstraints(max_length=4096), AfterValidator(storable)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60,
                                        pattern=r"^[A-Za-z0-9_.\-]+$"), AfterValidator(storable)]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024), AfterValidator(storable)]


def _json_strict(annotation: Any) -> Any:
    """``bool`` and ``int`` (also inside Optional, Annotated and list) made strict."""
    if annotation is bool or annotation is int:
        return Annotated[annotation, Strict()]
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return Union[tuple(_json_strict(a) for a in get_args(annotation))]  # noqa: UP007
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        return Annotated[(_json_strict(base), *metadata)]
    if origin is list:
        return list[_json_strict(get_args(annotation)[0])]  # type: ignore[misc]
    return annotation


class InSchema(BaseModel):
    """Base of every request body: unknown keys are an error, not silently dropped, and JSON
    types are taken at their word: ``0`` is not ``false`` and ``"5"`` is not ``5``.

    Pydantic's lax mode would coerce those; global strict mode would also refuse enum values
    and ISO dates given as JSON strings. So only bool and int fields are made strict, here,
    once, for every body schema.
    """

    model_config = ConfigDict(extra="forbid")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        annotations = cls.__dict__.get("__annotations__", {})
        for name, annotation in list(annotations.items()):
            if not isinstance(annotation, str):
                annotations[name] = _json_strict(annotation)
        super().__init_subclass__(**kwargs)


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
