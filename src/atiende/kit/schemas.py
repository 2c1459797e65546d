"""Reusable field types for API schemas: bounded ids and text that every database accepts."""

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

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


class InSchema(BaseModel):
    """Base of every request body: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)
