from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.invitations import invitation_service
from atiende.auth.memberships import membership_service
from atiende.auth.models import Membership, Role
from atiende.auth.schemas import (
    Invitation, MeOut, MembershipCreate, MembershipOut, MembershipUpdate, MeUpdate, MyMembership, TokenOut,
)
from atiende.auth.service import InvalidCredentials, WrongCurrentPassword, auth_service
from atiende.conversations.signoff import sign_off
from atiende.deps import AdminsWrite, BearerToken, BusDep, ClockDep, CurrentCaller, DbSession, EngineDep, SettingsDep
from atiende.errors import Invalid, NotFound
from atiende.kit.pagination import Page, PageDep, SearchParam
from atiende.kit.schemas import MAX_ID
from atiende.web import error_response

router = APIRouter(prefix="/api/v1", tags=["auth"])


def source_address(request: Request) -> str | None:
    """The client's address as the server sees it (behind a proxy: uvicorn's --forwarded-allow-ips)."""
    return request.client.host if request.client else None


@router.post("/auth/token", response_model=TokenOut,
             summary="Log in (OAuth2 password flow); failures are limited per email and per source address")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession,
                clock: ClockDep, settings: SettingsDep) -> Any:
    if len(form.username) > 254 or len(form.password) > 128:
        return error_response(InvalidCredentials())
    user = await auth_service.authenticate(session, form.username, form.password, clock=clock, settings=settings,
                                           address=source_address(request))
    if user is None:
        # Returned, not raised: the failed attempt must be committed to count toward the limit.
        return error_response(InvalidCredentials())
    token = await auth_service.issue_token(session, user, clock=clock, settings=settings)
    return TokenOut(access_token=token, expires_in=settings.token_ttl_minutes * 60)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT,
             summary="Revoke the current token; the user goes Desconectado in every client")
async def logout(caller: CurrentCaller, session: DbSession, token: BearerToken, engine: EngineDep,
                 bus: BusDep) -> None:
    if token:
        await auth_service.revoke_token(session, token, bus=bus)
    await sign_off(session, engine, caller)


async def _me(session: AsyncSession, caller: Caller) -> MeOut:
    memberships = [MyMembership(client_id=m.client_id, client_name=m.client.name, role=m.role, active=m.active)
                   for m in caller.memberships.values()]
    invitations = [Invitation(membership_id=m.id, client_id=m.client_id, client_name=m.client.name, role=m.role)
                   for m in await invitation_service.pending(session, caller.user)]
    return MeOut(id=caller.user.id, email=caller.user.email, full_name=caller.user.full_name,
                 locale=caller.user.locale, is_superuser=caller.user.is_superuser,
                 memberships=sorted(memberships, key=lambda m: m.client_name), invitations=invitations)


@router.get("/me", response_model=MeOut, summary="The logged-in user, their clients and their invitations")
async def me(caller: CurrentCaller, session: DbSession) -> Any:
    return await _me(session, caller)


@router.patch("/me", response_model=MeOut,
              summary="Change my name, language or password (a new password ends my other sessions)")
async def update_me(body: MeUpdate, caller: CurrentCaller, session: DbSession, request: Request, clock: ClockDep,
                    settings: SettingsDep, bus: BusDep, token: BearerToken) -> Any:
    if body.new_password is not None:
        if body.current_password is None:
            raise Invalid("Give your current password to set a new one", field="current_password")
        try:
            await auth_service.change_password(session, caller.user, body.current_password, body.new_password,
                                               clock=clock, settings=settings, bus=bus, keep_token=token,
                                               address=source_address(request))
        except WrongCurrentPassword as exc:
            # Returned, not raised: the failed check must be committed to count toward the limit.
            return error_response(exc)
    if body.full_name is not None:
        caller.user.full_name = body.full_name
    if body.locale is not None:
        caller.user.locale = body.locale
    await session.flush()
    return await _me(session, caller)


InvitationId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/me/invitations/{membership_id}/accept", response_model=MeOut,
             summary="Accept an invitation: the seat opens its client to me")
async def accept_invitation(membership_id: InvitationId, caller: CurrentCaller, session: DbSession,
                            bus: BusDep) -> Any:
    await invitation_service.accept(session, caller.user, membership_id, bus=bus)
    return await _me(session, await auth_service.caller_for_user(session, caller.user))


@router.delete("/me/invitations/{membership_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Decline an invitation (the seat is removed)")
async def decline_invitation(membership_id: InvitationId, caller: CurrentCaller, session: DbSession) -> None:
    await invitation_service.decline(session, caller.user, membership_id)


memberships = APIRouter(prefix="/api/v1/memberships", tags=["users and licenses"], dependencies=[AdminsWrite])


async def membership_path(item_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                          caller: CurrentCaller) -> Membership:
    membership = await membership_service.get(session, caller, item_id)
    if membership is None:
        raise NotFound("Membership not found", field="item_id")
    return membership


MembershipPath = Annotated[Membership, Depends(membership_path)]


@memberships.get("", response_model=Page[MembershipOut],
                 summary="List users and their licenses (admins and supervisors)")
async def list_memberships(session: DbSession, caller: CurrentCaller, page: PageDep,
                           client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                           role: Role | None = None,
                           q: SearchParam = None) -> Any:
    items, total = await membership_service.list(session, caller, client_id=client_id, page=page, role=role, q=q)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


@memberships.post("", response_model=MembershipOut, status_code=status.HTTP_201_CREATED,
                  summary="Invite a person to a license in a client (an account is created, with this password, "
                          "only if the email has none); the seat opens once the person accepts it")
async def create_membership(body: MembershipCreate, session: DbSession, caller: CurrentCaller,
                            clock: ClockDep) -> Any:
    return await membership_service.create(session, caller, body, clock=clock)


@memberships.get("/{item_id}", response_model=MembershipOut)
async def read_membership(membership: MembershipPath) -> Any:
    return membership


@memberships.patch("/{item_id}", response_model=MembershipOut, summary="Change role, activate or deactivate")
async def update_membership(membership: MembershipPath, body: MembershipUpdate, session: DbSession,
                            caller: CurrentCaller, clock: ClockDep, bus: BusDep) -> Any:
    return await membership_service.update(session, caller, membership, body, clock=clock, bus=bus)


@memberships.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_membership(membership: MembershipPath, session: DbSession, caller: CurrentCaller,
                            clock: ClockDep, bus: BusDep) -> None:
    await membership_service.delete(session, caller, membership, clock=clock, bus=bus)
