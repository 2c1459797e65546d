from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, Field

from atiende.kit.schemas import Id, InSchema, Name, OutSchema, ShortText


def _region(value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("must be a country code such as CO, MX or US")
    return code


PhoneRegion = Annotated[str | None, AfterValidator(_region),
                        Field(max_length=2, description="Country (ISO 3166, e.g. CO) whose phones may be "
                              "written without +country code; null: international format only")]


class ClientCreate(InSchema):
    name: Name
    plan_name: Name = "Estándar"
    plan_seats: int = Field(10, ge=1, le=100_000, description="Licenses: active memberships allowed")
    plan_max_history_hours: int = Field(72, ge=1, le=8760, description="Cap for a campaign's history hours")
    default_agent_capacity: int = Field(5, ge=1, le=100, description="Simultaneous conversations per agent")
    phone_region: PhoneRegion = None


class ClientUpdate(InSchema):
    name: Name | None = None
    plan_name: Name | None = None
    plan_seats: int | None = Field(None, ge=1, le=100_000)
    plan_max_history_hours: int | None = Field(None, ge=1, le=8760)
    default_agent_capacity: int | None = Field(None, ge=1, le=100)
    phone_region: PhoneRegion = None
    active: bool | None = None


class ClientOut(OutSchema):
    id: int
    name: str
    plan_name: str
    plan_seats: int
    plan_max_history_hours: int
    default_agent_capacity: int
    phone_region: str | None = None
    active: bool
    seats_used: int = 0


class ProjectCreate(InSchema):
    client_id: Id
    name: Name
    description: ShortText = ""
    active: bool = True


class ProjectUpdate(InSchema):
    name: Name | None = None
    description: ShortText | None = None
    active: bool | None = None


class ProjectOut(OutSchema):
    id: int
    client_id: int
    name: str
    description: str
    active: bool
