"""Who is calling, and in which clients they may act: the one place tenant scoping starts."""

from dataclasses import dataclass, field

from atiende.auth.models import Membership, Role, User
from atiende.errors import Forbidden, NotFound


class ClientNotFound(NotFound):
    code = "client.not_found"

    def __init__(self, field_name: str = "client_id") -> None:
        super().__init__("Client not found", field=field_name)


class LicenseInactive(Forbidden):
    code = "auth.license_inactive"

    def __init__(self) -> None:
        super().__init__("Your license in this client is not active")


class RoleRequired(Forbidden):
    code = "auth.role_required"

    def __init__(self, roles: tuple[Role, ...]) -> None:
        names = ", ".join(r.value for r in roles)
        super().__init__(f"This action needs the role: {names}")


class SuperuserRequired(Forbidden):
    code = "auth.superuser_required"

    def __init__(self) -> None:
        super().__init__("Only a platform superuser may do this")


@dataclass
class Caller:
    user: User
    memberships: dict[int, Membership] = field(default_factory=dict)

    @property
    def client_ids(self) -> list[int]:
        """Clients whose data the caller may read: those where the license is active."""
        return [cid for cid, m in self.memberships.items() if m.active]

    def membership(self, client_id: int, field_name: str = "client_id") -> Membership:
        """The caller's active seat in ``client_id``; another tenant's id is simply not found."""
        membership = self.memberships.get(client_id)
        if membership is None:
            raise ClientNotFound(field_name)
        if not membership.active:
            raise LicenseInactive()
        return membership

    def require(self, client_id: int, *roles: Role, field_name: str = "client_id") -> Membership:
        membership = self.membership(client_id, field_name)
        if roles and membership.role not in roles:
            raise RoleRequired(roles)
        return membership

    def require_admin(self, client_id: int, field_name: str = "client_id") -> Membership:
        return self.require(client_id, Role.admin, field_name=field_name)

    def role_in(self, client_id: int) -> Role | None:
        membership = self.memberships.get(client_id)
        return membership.role if membership and membership.active else None

    def scope(self, client_id: int | None) -> list[int]:
        """Client ids a list query may touch: one requested client (checked), or all of the caller's."""
        if client_id is None:
            return self.client_ids
        self.membership(client_id)
        return [client_id]
