from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.security import OAuth2PasswordRequestForm

from atiende.auth.caller import Caller
from atiende.auth.memberships import membership_service
from atiende.auth.models import Membership, Role
from atiende.auth.schemas import MeOut, MembershipCreate, MembershipOut, MembershipUpdate, MeUpdate, MyMembership, TokenOut
from atiende.auth.service import InvalidCredentials, auth_service
from atiende.conversations.deps import EngineDep
from atiende.conversations.signoff import sign_off
from atiende.deps import BearerToken, ClockDep, CurrentCaller, DbSession, SettingsDep
from atiende.errors import Invalid, NotFound
from atiende.kit.pagination import Page, PageDep, SearchParam
from atiende.kit.schemas import MAX_ID
from atiende.web import error_response

router = APIRouter(prefix="/api/v1", tags=["auth"])


@router.post("/auth/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)")
async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: DbSession, clock: ClockDep,
                settings: SettingsDep) -> Any:
    if len(form.username) > 254 or len(form.password) > 128:
        return error_response(InvalidCredentials())
    user = await auth_service.authenticate(session, form.username, form.password, clock=clock, settings=settings)
    if user is None:
        # Returned, not raised: the failed attempt must be committed to count toward the limit.
        return error_response(InvalidCredentials())
    token = await auth_service.issue_token(session, user, clock=clock, settings=settings)
    return TokenOut(access_token=token, expires_in=settings.token_ttl_minutes * 60)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT,
             summary="Revoke the current token; the user goes Desconectado in every client")
async def logout(caller: CurrentCaller, session: DbSession, token: BearerToken, engine: EngineDep) -> None:
    if token:
        await auth_service.revoke_token(session, token)
    await sign_off(session, engine, caller)


def _me(caller: Caller) -> MeOut:
    memberships = [MyMembership(client_id=m.client_id, client_name=m.client.name, role=m.role, active=m.active)
                   for m in caller.memberships.values()]
    return MeOut(id=caller.user.id, email=caller.user.email, full_name=caller.user.full_name,
                 locale=caller.user.locale, is_superuser=caller.user.is_superuser,
                 memberships=sorted(memberships, key=lambda m: m.client_name))


@router.get("/me", response_model=MeOut, summary="The logged-in user and their clients")
async def me(caller: CurrentCaller) -> Any:
    return _me(caller)


@router.patch("/me", response_model=MeOut, summary="Change my name, language or password")
async def update_me(body: MeUpdate, caller: CurrentCaller, session: DbSession) -> Any:
    if body.new_password is not None:
        if body.current_password is None:
            raise Invalid("Give your current password to set a new one", field="current_password")
        await auth_service.change_password(session, caller.user, body.current_password, body.new_password)
    if body.full_name is not None:
        caller.user.full_name = body.full_name
    if body.locale is not None:
        caller.user.locale = body.locale
    await session.flush()
    return _me(caller)


memberships = APIRouter(prefix="/api/v1/memberships", tags=["users and licenses"])


async def membership_path(item_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                          caller: CurrentCaller) -> Membership:
    membership = await membership_service.get(session, caller, item_id)
    if membership is None:
        raise NotFound("Membership not found", field="item_id")
    return membership


MembershipPath = Annotated[Membership, Depends(membership_path)]


@memberships.get("", response_model=Page[MembershipOut], summary="List users and their licenses")
async def list_memberships(session: DbSession, caller: CurrentCaller, page: PageDep,
                           client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                           role: Role | None = None,
                           q: SearchParam = None) -> Any:
    items, total = await membership_service.list(session, caller, client_id=client_id, page=page, role=role, q=q)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


@memberships.post("", response_model=MembershipOut, status_code=status.HTTP_201_CREATED,
                  summary="Give a user a license in a client (creating the user if new)")
async def create_membership(body: MembershipCreate, session: DbSession, caller: CurrentCaller,
                            clock: ClockDep) -> Any:
    return await membership_service.create(session, caller, body, clock=clock)


@memberships.get("/{item_id}", response_model=MembershipOut)
async def read_membership(membership: MembershipPath) -> Any:
    return membership


@memberships.patch("/{item_id}", response_model=MembershipOut, summary="Change role, activate or deactivate")
async def update_membership(membership: MembershipPath, body: MembershipUpdate, session: DbSession,
                            caller: CurrentCaller, clock: ClockDep) -> Any:
    return await membership_service.update(session, caller, membership, body, clock=clock)


@memberships.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_membership(membership: MembershipPath, session: DbSession, caller: CurrentCaller,
                            clock: ClockDep) -> None:
    await membership_service.delete(session, caller, membership, clock=clock)
