"""Rules of the setup catalog. Every service is tenant-scoped through ``ScopedCrudService``; what is
checked here is what needs the database or the whole list (overlaps, duplicates, cycles, usage)."""

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.campaigns.models import Campaign, CampaignField
from atiende.catalog.models import (FieldDefinition, FieldType, Funnel, FunnelStage, Holiday, Schedule, SurveyBot,
                                    SurveyQuestion, TimeBand, Typification)
from atiende.catalog.schedule_rules import BandLike, band_problem, is_open, next_change, overlapping_pair
from atiende.catalog.schemas import (RULES_BY_TYPE, BandIn, FieldDefinitionCreate, FieldDefinitionOut,
                                     FieldDefinitionUpdate, FunnelCreate, FunnelOut, FunnelUpdate, HolidayIn,
                                     QuestionIn, ScheduleCreate, ScheduleOut, ScheduleStatusOut, ScheduleUpdate,
                                     StageIn, SurveyBotCreate, SurveyBotOut, SurveyBotUpdate, TypificationCreate,
                                     TypificationOut, TypificationUpdate)
from atiende.catalog.usage import refuse_if_campaigns_use
from atiende.errors import Conflict, Invalid
from atiende.kit.crud import ScopedCrudService
from atiende.kit.pagination import PageParams, paginate
from atiende.kit.search import contains

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
EARLIEST_STATUS = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_STATUS = datetime(9000, 1, 1, tzinfo=UTC)


# --- schedules ---------------------------------------------------------------------------------

def describe_band(band: BandLike) -> str:
    night = ", overnight" if band.overnight else ""
    return f"{WEEKDAYS[band.weekday]} {band.start:%H:%M}–{band.end:%H:%M}{night}"


def checked_bands(bands: Sequence[BandIn]) -> list[TimeBand]:
    """Each band usable on its own, and no two of them open at the same moment of the week."""
    for index, band in enumerate(bands):
        problem = band_problem(band)
        if problem:
            raise Invalid(f"Band {index + 1} ({describe_band(band)}): {problem}", field=f"bands.{index}")
    pair = overlapping_pair(bands)
    if pair:
        first, second = pair
        raise Invalid(f"Band {first + 1} ({describe_band(bands[first])}) overlaps band {second + 1} "
                      f"({describe_band(bands[second])})", field=f"bands.{second}",
                      extra={"overlapping": [f"bands.{first}", f"bands.{second}"]})
    return [TimeBand(weekday=b.weekday, start=b.start, end=b.end, overnight=b.overnight) for b in bands]


def checked_holidays(holidays: Sequence[HolidayIn]) -> list[Holiday]:
    seen: set = set()
    for index, holiday in enumerate(holidays):
        if holiday.day in seen:
            raise Invalid(f"{holiday.day.isoformat()} is listed twice", field=f"holidays.{index}.day")
        seen.add(holiday.day)
    return [Holiday(day=h.day, name=h.name) for h in holidays]


class ScheduleService(ScopedCrudService[Schedule, ScheduleCreate, ScheduleUpdate]):
    model = Schedule
    out_schema = ScheduleOut
    entity = "schedule"

    async def build(self, session: AsyncSession, data: ScheduleCreate) -> Schedule:
        await self.ensure_unique(session, data.client_id, "name", data.name)
        return Schedule(client_id=data.client_id, name=data.name, timezone=data.timezone, active=data.active,
                        bands=checked_bands(data.bands), holidays=checked_holidays(data.holidays))

    async def apply(self, session: AsyncSession, obj: Schedule, data: ScheduleUpdate) -> None:
        if data.name is not None:
            await self.ensure_unique(session, obj.client_id, "name", data.name, exclude_id=obj.id)
            obj.name = data.name
        if data.timezone is not None:
            obj.timezone = data.timezone
        if data.active is not None:
            obj.active = data.active
        bands = None if data.bands is None else checked_bands(data.bands)
        holidays = None if data.holidays is None else checked_holidays(data.holidays)
        # Old rows go first (flush), so a holiday kept on the same day never meets its old row.
        if bands is not None:
            obj.bands.clear()
        if holidays is not None:
            obj.holidays.clear()
        await session.flush()
        if bands is not None:
            obj.bands.extend(bands)
        if holidays is not None:
            obj.holidays.extend(holidays)

    async def check_delete(self, session: AsyncSession, obj: Schedule) -> None:
        await refuse_if_campaigns_use(session, f'The schedule "{obj.name}"', Campaign.schedule_id == obj.id)

    def status(self, schedule: Schedule, at: datetime) -> ScheduleStatusOut:
        """Open or closed at ``at`` (aware), and when that changes, told in the schedule's zone."""
        if not EARLIEST_STATUS <= at <= LATEST_STATUS:
            raise Invalid("at must be between the years 1900 and 9000", field="at")
        change = next_change(schedule, at)
        return ScheduleStatusOut(open=is_open(schedule, at),
                                 next_change=change.astimezone(ZoneInfo(schedule.timezone)) if change else None)


# --- typifications -----------------------------------------------------------------------------

class TypificationService(ScopedCrudService[Typification, TypificationCreate, TypificationUpdate]):
    model = Typification
    out_schema = TypificationOut
    entity = "typification"
    search_columns = ("name", "code")

    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   q: str | None = None, active: bool | None = None,
                   parent_id: int | None = None) -> tuple[list[Typification], int]:
        """Like every list, plus ``parent_id``: the children of one typification (a tree level)."""
        stmt = self.scoped(caller.scope(client_id))
        if q:
            stmt = stmt.where(or_(*(contains(getattr(Typification, c), q) for c in self.search_columns)))
        if active is not None:
            stmt = stmt.where(Typification.active == active)
        if parent_id is not None:
            stmt = stmt.where(Typification.parent_id == parent_id)
        return await paginate(session, stmt.order_by(Typification.id), page)

    async def build(self, session: AsyncSession, data: TypificationCreate) -> Typification:
        await self.ensure_unique(session, data.client_id, "code", data.code)
        if data.parent_id is not None:
            await self.get_reference(session, data.client_id, data.parent_id, "parent_id")
        return Typification(**data.model_dump())

    async def apply(self, session: AsyncSession, obj: Typification, data: TypificationUpdate) -> None:
        if data.code is not None:
            await self.ensure_unique(session, obj.client_id, "code", data.code, exclude_id=obj.id)
            obj.code = data.code
        if "parent_id" in data.model_fields_set:
            await self._check_parent(session, obj, data.parent_id)
            obj.parent_id = data.parent_id
        if data.name is not None:
            obj.name = data.name
        if data.active is not None:
            obj.active = data.active

    async def _check_parent(self, session: AsyncSession, obj: Typification, parent_id: int | None) -> None:
        """The new parent is of the same client and not ``obj`` itself or one of its descendants."""
        if parent_id is None:
            return
        node: Typification | None = await self.get_reference(session, obj.client_id, parent_id, "parent_id")
        seen: set[int] = set()
        while node is not None and node.id not in seen:
            if node.id == obj.id:
                raise Invalid("A typification cannot go under itself or under one of its own sub-typifications",
                              field="parent_id")
            seen.add(node.id)
            node = None if node.parent_id is None else await session.get(Typification, node.parent_id)

    async def check_delete(self, session: AsyncSession, obj: Typification) -> None:
        children = await session.scalar(select(func.count()).where(Typification.parent_id == obj.id))
        if children:
            raise Conflict(f'The typification "{obj.name}" has {children} sub-typification(s); '
                           "delete or move them first", field="item_id")
        await refuse_if_campaigns_use(session, f'The typification "{obj.name}"', or_(
            Campaign.typification_inactivity_id == obj.id, Campaign.typification_transferred_id == obj.id,
            Campaign.typification_agent_closed_id == obj.id, Campaign.typification_mass_transfer_id == obj.id,
            Campaign.bot_resolved_typification_id == obj.id))


# --- field definitions -------------------------------------------------------------------------

def checked_options(field_type: FieldType, options: Sequence[str]) -> list[str]:
    """A select needs distinct options (ignoring case); other types take none."""
    if field_type is not FieldType.select:
        if options:
            raise Invalid(f"Only select fields have options, not {field_type.value} fields", field="options")
        return []
    if not options:
        raise Invalid("A select field needs at least one option", field="options")
    seen: set[str] = set()
    for index, option in enumerate(options):
        if option.casefold() in seen:
            raise Invalid(f'The option "{option}" is repeated', field=f"options.{index}")
        seen.add(option.casefold())
    return list(options)


class FieldDefinitionService(ScopedCrudService[FieldDefinition, FieldDefinitionCreate, FieldDefinitionUpdate]):
    model = FieldDefinition
    out_schema = FieldDefinitionOut
    entity = "field_definition"
    search_columns = ("key", "label")

    async def build(self, session: AsyncSession, data: FieldDefinitionCreate) -> FieldDefinition:
        await self.ensure_unique(session, data.client_id, "key", data.key)
        rules = data.validation or RULES_BY_TYPE[data.type]()
        return FieldDefinition(client_id=data.client_id, key=data.key, label=data.label, type=data.type,
                               options=checked_options(data.type, data.options), validation=rules.stored(),
                               active=data.active)

    async def apply(self, session: AsyncSession, obj: FieldDefinition, data: FieldDefinitionUpdate) -> None:
        if data.type is not None and data.type != obj.type:
            raise Invalid("The type of a field cannot change (values were filled in as "
                          f"{obj.type.value}); create a new field instead", field="type")
        if data.key is not None:
            await self.ensure_unique(session, obj.client_id, "key", data.key, exclude_id=obj.id)
            obj.key = data.key
        if data.options is not None:
            obj.options = checked_options(obj.type, data.options)
        if "validation" in data.model_fields_set:
            obj.validation = data.validation.stored() if data.validation else {}
        if data.label is not None:
            obj.label = data.label
        if data.active is not None:
            obj.active = data.active

    async def check_delete(self, session: AsyncSession, obj: FieldDefinition) -> None:
        used_by = select(CampaignField.campaign_id).where(CampaignField.field_definition_id == obj.id)
        await refuse_if_campaigns_use(session, f'The field "{obj.key}"', Campaign.id.in_(used_by))


# --- funnels and survey bots -------------------------------------------------------------------

def _refuse_repeated_names(stages: Sequence[StageIn]) -> None:
    seen: set[str] = set()
    for index, stage in enumerate(stages):
        if stage.name.casefold() in seen:
            raise Invalid(f'The stage "{stage.name}" is repeated', field=f"stages.{index}.name")
        seen.add(stage.name.casefold())


def _kept_rows(existing: Sequence[FunnelStage] | Sequence[SurveyQuestion], wanted: Sequence[StageIn | QuestionIn],
               field: str, label: str) -> dict[int, FunnelStage | SurveyQuestion]:
    """Rows the new list keeps by ``id``, by position in the new list; unknown or repeated ids name the item."""
    by_id = {row.id: row for row in existing}
    kept: dict[int, FunnelStage | SurveyQuestion] = {}
    for index, item in enumerate(wanted):
        if item.id is None:
            continue
        row = by_id.pop(item.id, None)
        if row is None:
            raise Invalid(f"{label} {item.id} is not one of this list's {label.lower()}s (or is repeated)",
                          field=f"{field}.{index}.id")
        kept[index] = row
    return kept


class FunnelService(ScopedCrudService[Funnel, FunnelCreate, FunnelUpdate]):
    model = Funnel
    out_schema = FunnelOut
    entity = "funnel"

    async def build(self, session: AsyncSession, data: FunnelCreate) -> Funnel:
        await self.ensure_unique(session, data.client_id, "name", data.name)
        funnel = Funnel(client_id=data.client_id, name=data.name, active=data.active, stages=[])
        self._set_stages(funnel, data.stages)
        return funnel

    async def apply(self, session: AsyncSession, obj: Funnel, data: FunnelUpdate) -> None:
        if data.name is not None:
            await self.ensure_unique(session, obj.client_id, "name", data.name, exclude_id=obj.id)
            obj.name = data.name
        if data.stages is not None:
            self._set_stages(obj, data.stages)
        if data.active is not None:
            obj.active = data.active

    def _set_stages(self, funnel: Funnel, stages: Sequence[StageIn]) -> None:
        _refuse_repeated_names(stages)
        kept = _kept_rows(funnel.stages, stages, "stages", "Stage")
        rows = []
        for position, stage in enumerate(stages):
            row = kept.get(position) or FunnelStage()
            row.position, row.name = position, stage.name
            rows.append(row)
        funnel.stages = rows  # type: ignore[assignment]

    async def check_delete(self, session: AsyncSession, obj: Funnel) -> None:
        await refuse_if_campaigns_use(session, f'The funnel "{obj.name}"', Campaign.funnel_id == obj.id)


class SurveyBotService(ScopedCrudService[SurveyBot, SurveyBotCreate, SurveyBotUpdate]):
    model = SurveyBot
    out_schema = SurveyBotOut
    entity = "survey_bot"

    async def build(self, session: AsyncSession, data: SurveyBotCreate) -> SurveyBot:
        await self.ensure_unique(session, data.client_id, "name", data.name)
        bot = SurveyBot(client_id=data.client_id, name=data.name, closing_message=data.closing_message,
                        timeout_minutes=data.timeout_minutes, active=data.active, questions=[])
        self._set_questions(bot, data.questions)
        return bot

    async def apply(self, session: AsyncSession, obj: SurveyBot, data: SurveyBotUpdate) -> None:
        if data.name is not None:
            await self.ensure_unique(session, obj.client_id, "name", data.name, exclude_id=obj.id)
            obj.name = data.name
        if data.questions is not None:
            self._set_questions(obj, data.questions)
        for key in ("closing_message", "timeout_minutes", "active"):
            value = getattr(data, key)
            if value is not None:
                setattr(obj, key, value)

    def _set_questions(self, bot: SurveyBot, questions: Sequence[QuestionIn]) -> None:
        kept = _kept_rows(bot.questions, questions, "questions", "Question")
        rows = []
        for position, question in enumerate(questions):
            row = kept.get(position) or SurveyQuestion()
            row.position, row.kind, row.text = position, question.kind, question.text
            rows.append(row)
        bot.questions = rows  # type: ignore[assignment]

    async def check_delete(self, session: AsyncSession, obj: SurveyBot) -> None:
        await refuse_if_campaigns_use(session, f'The survey bot "{obj.name}"', Campaign.survey_bot_id == obj.id)


schedule_service = ScheduleService()
typification_service = TypificationService()
field_definition_service = FieldDefinitionService()
funnel_service = FunnelService()
survey_bot_service = SurveyBotService()
