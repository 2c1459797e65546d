from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status

from atiende.deps import AdminsWrite, ClockDep, CurrentCaller, DbSession, SuperuserWrites
from atiende.errors import NotFound
from atiende.kit.crud import crud_router
from atiende.kit.pagination import Page, PageDep
from atiende.kit.schemas import MAX_ID
from atiende.tenancy.models import Client
from atiende.tenancy.schemas import ClientCreate, ClientOut, ClientUpdate, ProjectCreate, ProjectOut, ProjectUpdate
from atiende.tenancy.service import client_service, project_service

clients = APIRouter(prefix="/api/v1/clients", tags=["clients"])


async def client_path(item_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: DbSession,
                      caller: CurrentCaller) -> Client:
    client = await client_service.get(session, caller, item_id)
    if client is None:
        raise NotFound("Client not found", field="item_id")
    return client


ClientPath = Annotated[Client, Depends(client_path)]


@clients.get("", response_model=Page[ClientOut], summary="Clients I belong to (all, for a superuser)")
async def list_clients(session: DbSession, caller: CurrentCaller, page: PageDep) -> Any:
    items, total = await client_service.list(session, caller, page)
    return {"items": [await client_service.out(session, c) for c in items], "total": total,
            "page": page.page, "limit": page.limit}


@clients.post("", response_model=ClientOut, status_code=status.HTTP_201_CREATED,
              summary="Create a client (platform superuser)", dependencies=[SuperuserWrites])
async def create_client(body: ClientCreate, session: DbSession, caller: CurrentCaller, clock: ClockDep) -> Any:
    return await client_service.out(session, await client_service.create(session, caller, body, clock=clock))


@clients.get("/{item_id}", response_model=ClientOut, summary="A client with its plan and seats used")
async def read_client(client: ClientPath, session: DbSession) -> Any:
    return await client_service.out(session, client)


@clients.patch("/{item_id}", response_model=ClientOut, dependencies=[AdminsWrite],
               summary="Change a client's plan (platform superuser) or its own settings (its admins: phone_region)")
async def update_client(client: ClientPath, body: ClientUpdate, session: DbSession, caller: CurrentCaller,
                        clock: ClockDep) -> Any:
    return await client_service.out(session, await client_service.update(session, caller, client, body, clock=clock))


projects = crud_router(service=project_service, create_schema=ProjectCreate, update_schema=ProjectUpdate,
                       out_schema=ProjectOut, prefix="/api/v1/projects", tag="projects")
