from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.routing import APIRoute
from pydantic import AwareDatetime

from atiende.catalog.models import Schedule
from atiende.catalog.schemas import (FieldDefinitionCreate, FieldDefinitionOut, FieldDefinitionUpdate, FunnelCreate,
                                     FunnelOut, FunnelUpdate, ScheduleCreate, ScheduleOut, ScheduleStatusOut,
                                     ScheduleUpdate, SurveyBotCreate, SurveyBotOut, SurveyBotUpdate,
                                     TypificationCreate, TypificationOut, TypificationUpdate)
from atiende.catalog.service import (field_definition_service, funnel_service, schedule_service, survey_bot_service,
                                     typification_service)
from atiende.deps import ClockDep, CurrentCaller, DbSession
from atiende.kit.crud import crud_router
from atiende.kit.pagination import Page, PageDep, SearchParam
from atiende.kit.schemas import MAX_ID

schedules = crud_router(service=schedule_service, create_schema=ScheduleCreate, update_schema=ScheduleUpdate,
                        out_schema=ScheduleOut, prefix="/api/v1/schedules", tag="schedules")
ScheduleLoaded = Annotated[Schedule, Depends(schedules.loader)]  # type: ignore[attr-defined]


@schedules.get("/{item_id}/status", response_model=ScheduleStatusOut, summary="Is the schedule open, and until when")
async def schedule_status(schedule: ScheduleLoaded, clock: ClockDep,
                          at: Annotated[AwareDatetime | None, Query(
                              description="ISO 8601 instant with its UTC offset (default: now)",
                              examples=["2026-01-10T10:00:00-05:00"])] = None) -> Any:
    return schedule_service.status(schedule, at or clock.now())


typifications = crud_router(service=typification_service, create_schema=TypificationCreate,
                            update_schema=TypificationUpdate, out_schema=TypificationOut,
                            prefix="/api/v1/typifications", tag="typifications")


def _drop_list_route(router: APIRouter) -> None:
    """Remove the generic list route, to replace it with one that takes extra filters."""
    router.routes[:] = [route for route in router.routes
                        if not (isinstance(route, APIRoute) and route.path == router.prefix and "GET" in route.methods)]


_drop_list_route(typifications)


@typifications.get("", response_model=Page[TypificationOut],
                   summary="List typifications (each with its parent_id, to build the tree)")
async def list_typifications(session: DbSession, caller: CurrentCaller, page: PageDep,
                             client_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
                             q: SearchParam = None, active: bool | None = None,
                             parent_id: Annotated[int | None, Query(ge=1, le=MAX_ID,
                                                                    description="Only children of this one")] = None,
                             ) -> Any:
    items, total = await typification_service.list(session, caller, client_id=client_id, page=page, q=q,
                                                   active=active, parent_id=parent_id)
    return {"items": items, "total": total, "page": page.page, "limit": page.limit}


field_definitions = crud_router(service=field_definition_service, create_schema=FieldDefinitionCreate,
                                update_schema=FieldDefinitionUpdate, out_schema=FieldDefinitionOut,
                                prefix="/api/v1/field-definitions", tag="field definitions")
funnels = crud_router(service=funnel_service, create_schema=FunnelCreate, update_schema=FunnelUpdate,
                      out_schema=FunnelOut, prefix="/api/v1/funnels", tag="funnels")
survey_bots = crud_router(service=survey_bot_service, create_schema=SurveyBotCreate, update_schema=SurveyBotUpdate,
                          out_schema=SurveyBotOut, prefix="/api/v1/survey-bots", tag="survey bots")

routers = [schedules, typifications, field_definitions, funnels, survey_bots]
