from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from atiende.auth.models import Presence, Role
from atiende.kit.schemas import Id, InSchema, Name, OutSchema

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Locale = Annotated[str, StringConstraints(pattern=r"^(es|en)$")]


class TokenOut(OutSchema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserBrief(OutSchema):
    id: int
    email: str
    full_name: str


class MembershipOut(OutSchema):
    id: int
    client_id: int
    role: Role
    active: bool
    presence: Presence
    user: UserBrief


class MyMembership(OutSchema):
    client_id: int
    client_name: str
    role: Role
    active: bool


class MeOut(OutSchema):
    id: int
    email: str
    full_name: str
    locale: str
    is_superuser: bool
    memberships: list[MyMembership]


class MeUpdate(InSchema):
    full_name: Name | None = None
    locale: Locale | None = None
    current_password: Annotated[str, StringConstraints(max_length=128)] | None = None
    new_password: Password | None = None


class MembershipCreate(InSchema):
    """Gives a person a seat in a client; creates the user when the email is new (then a password is needed)."""

    client_id: Id
    email: EmailStr = Field(max_length=254)
    full_name: Name | None = None
    password: Password | None = None
    role: Role
    active: bool = True


class MembershipUpdate(InSchema):
    role: Role | None = None
    active: bool | None = None
    full_name: Name | None = None
    password: Password | None = None
