from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints, model_validator

from atiende.auth.models import MembershipStatus, Presence, Role
from atiende.kit.schemas import Id, InSchema, Name, OutSchema

Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]
Locale = Annotated[str, StringConstraints(pattern=r"^(es|en)$")]


class TokenOut(OutSchema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserBrief(OutSchema):
    """The person of a seat. No user id: accounts are global, and an id would tell an inviting admin
    whether the email already had one."""

    email: str
    full_name: str


class MembershipOut(OutSchema):
    id: int
    client_id: int
    role: Role
    active: bool
    status: MembershipStatus
    presence: Presence
    user: UserBrief

    @model_validator(mode="after")
    def _hide_name_until_accepted(self) -> "MembershipOut":
        if self.status != MembershipStatus.accepted:
            self.user = UserBrief(email=self.user.email, full_name="")
        return self


class Invitation(OutSchema):
    """A seat an admin offered me; it opens the client once I accept it."""

    membership_id: int
    client_id: int
    client_name: str
    role: Role


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
    invitations: list[Invitation] = []


class MeUpdate(InSchema):
    full_name: Name | None = None
    locale: Locale | None = None
    current_password: Annotated[str, StringConstraints(max_length=128)] | None = None
    new_password: Password | None = None


class MembershipCreate(InSchema):
    """Invites a person to a seat in a client. When the email has no account yet, one is created with
    this name and initial password; an existing account keeps its own (both are then ignored)."""

    client_id: Id
    email: EmailStr = Field(max_length=254)
    full_name: Name | None = None
    password: Password
    role: Role
    active: bool = True


class MembershipUpdate(InSchema):
    role: Role | None = None
    active: bool | None = None
    full_name: Name | None = Field(default=None, description="Only for a person whose every seat is in "
                                   "clients you administer (the superuser: anyone)")
    password: Password | None = Field(default=None, description="Resets the password and ends the person's "
                                      "sessions; same rule as full_name")
