"""Campaign rules: the seven tabs of the form, validated as a whole on every write.

The API speaks one object per tab (``CampaignCreate``); the table is flat columns plus the
channel and field links. Every write (create, patch, duplicate) goes through ``_parse`` and
``_validate`` on the complete form, so a PATCH can never leave a campaign that a POST refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller
from atiende.bots.models import AttentionBot
from atiende.campaigns.models import Campaign, CampaignChannel, CampaignField
from atiende.campaigns.permissions import CampaignPermissions
from atiende.campaigns.schemas import DISPLAY_KEYS, CampaignCreate, CampaignOut, CampaignUpdate, ChannelSummary
from atiende.catalog.models import FieldDefinition, Funnel, Schedule, SurveyBot, Typification
from atiende.channels.models import Channel
from atiende.clock import Clock
from atiende.errors import Conflict, Invalid
from atiende.kit.crud import ScopedCrudService
from atiende.kit.pagination import PageParams, paginate
from atiende.kit.schemas import Name
from atiende.kit.search import contains
from atiende.kit.unique import NameTaken, fold, taken_by
from atiende.tenancy.models import Client, Project

TYPIFICATION_SLOTS = ("inactivity", "transferred", "agent_closed", "mass_transfer")
Reference = Project | Schedule | SurveyBot | AttentionBot | Funnel | Typification | Channel | FieldDefinition


class ChannelTaken(Conflict):
    code = "campaign.channel_in_use"

    def __init__(self, channel: str, campaign: str, campaign_id: int) -> None:
        super().__init__(f'Channel "{channel}" already serves the active campaign "{campaign}"',
                         field="channels.channel_ids", extra={"campaign_id": campaign_id})


def _form(obj: Campaign) -> dict[str, Any]:
    """The stored campaign in the API's one-object-per-tab shape."""
    return {
        "client_id": obj.client_id, "project_id": obj.project_id, "name": obj.name,
        "survey": {"enabled": obj.survey_enabled, "survey_bot_id": obj.survey_bot_id},
        "bot": {"attention_bot_id": obj.attention_bot_id, "handoff_keywords": list(obj.bot_handoff_keywords),
                "misunderstandings_before_handoff": obj.bot_max_misunderstandings,
                "answers_out_of_hours": obj.bot_answers_out_of_hours,
                "resolved_typification_id": obj.bot_resolved_typification_id},
        "funnel_id": obj.funnel_id,
        "channels": {"configure_later": obj.configure_channels_later, "channel_ids": obj.channel_ids},
        "schedule": {"schedule_id": obj.schedule_id, "out_of_hours_action": obj.out_of_hours_action,
                     "apply_to_queued": obj.apply_to_queued, "out_of_hours_message": obj.out_of_hours_message,
                     "send_out_of_hours_message": obj.send_out_of_hours_message},
        "typifications": {slot: getattr(obj, f"typification_{slot}_id") for slot in TYPIFICATION_SLOTS},
        "inactivity_timeout_minutes": obj.inactivity_timeout_minutes,
        "permissions": obj.permissions.model_dump(),
        "fields": [{"field_definition_id": f.field_definition_id, "required": f.required} for f in obj.field_links],
        "assignment_method": obj.assignment_method, "active": obj.active,
    }


def _parse(form: dict[str, Any]) -> CampaignCreate:
    """The combined form (stored values + a patch) as a validated ``CampaignCreate``."""
    try:
        return CampaignCreate.model_validate(form)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid(error["msg"], field=".".join(str(p) for p in error["loc"])) from exc


def _check_form(form: CampaignCreate) -> None:
    """Rules between fields of the form, before looking anything up."""
    if form.survey.enabled and form.survey.survey_bot_id is None:
        raise Invalid("Choose the survey bot to send, or disable the survey", field="survey.survey_bot_id")
    if form.schedule.send_out_of_hours_message and not form.schedule.out_of_hours_message.strip():
        raise Invalid("Write the out-of-hours message, or do not send it", field="schedule.out_of_hours_message")
    if not form.channels.channel_ids and not form.channels.configure_later:
        raise Invalid("Choose at least one channel, or configure channels later", field="channels.channel_ids")
    _refuse_repeats(form.channels.channel_ids, "channels.channel_ids.{}", "Channel")
    _refuse_repeats([f.field_definition_id for f in form.fields], "fields.{}.field_definition_id", "Field")
    permissions = form.permissions
    if permissions.history_enabled and permissions.history_hours is None:
        raise Invalid("Say how many hours of history agents see", field="permissions.history_hours")
    if not permissions.history_enabled and permissions.history_hours is not None:
        raise Invalid("History hours only apply when history is enabled", field="permissions.history_hours")


def _refuse_repeats(ids: list[int], field: str, label: str) -> None:
    seen: set[int] = set()
    for index, item_id in enumerate(ids):
        if item_id in seen:
            raise Invalid(f"{label} {item_id} is listed twice", field=field.format(index))
        seen.add(item_id)


class CampaignService(ScopedCrudService[Campaign, CampaignCreate, CampaignUpdate]):
    model = Campaign
    out_schema = CampaignOut
    entity = "campaign"

    # --- reads -------------------------------------------------------------------------
    async def get(self, session: AsyncSession, caller: Caller, item_id: int) -> Campaign | None:
        """Another tenant's campaign is not found; one of a client where the license is off is 403."""
        stmt = self.scoped(list(caller.memberships)).where(Campaign.id == item_id)
        obj = await session.scalar(stmt.execution_options(populate_existing=True))
        if obj is not None:
            caller.membership(obj.client_id, "campaign_id")
        return obj

    async def list(self, session: AsyncSession, caller: Caller, *, client_id: int | None, page: PageParams,
                   q: str | None = None, active: bool | None = None,
                   project_id: int | None = None) -> tuple[list[Campaign], int]:
        stmt = self.scoped(caller.scope(client_id))
        if project_id is not None:
            stmt = stmt.where(Campaign.project_id == project_id)
        if active is not None:
            stmt = stmt.where(Campaign.active.is_(active))
        if q:
            stmt = stmt.where(contains(Campaign.name, q))
        return await paginate(session, stmt.order_by(func.lower(Campaign.name), Campaign.id), page)

    def to_out(self, obj: Campaign) -> CampaignOut:
        return CampaignOut.model_validate({**_form(obj), "id": obj.id, "created_at": obj.created_at,
                                           "updated_at": obj.updated_at})

    def snapshot(self, obj: Campaign) -> dict[str, Any]:
        return self.to_out(obj).model_dump(mode="json", exclude=DISPLAY_KEYS)

    async def describe(self, session: AsyncSession, campaigns: list[Campaign]) -> list[CampaignOut]:
        """Campaigns with the names list screens show (project, schedule, channels), in three queries."""
        projects = await self._names(session, select(Project.id, Project.name)
                                     .where(Project.id.in_({c.project_id for c in campaigns})))
        schedules = await self._names(session, select(Schedule.id, Schedule.name)
                                      .where(Schedule.id.in_({c.schedule_id for c in campaigns})))
        channel_ids = {cid for c in campaigns for cid in c.channel_ids}
        channels = {row.id: ChannelSummary.model_validate(row) for row in
                    (await session.execute(select(Channel.id, Channel.name, Channel.kind)
                                           .where(Channel.id.in_(channel_ids)))).all()}
        outs = []
        for campaign in campaigns:
            out = self.to_out(campaign)
            out.project_name = projects.get(campaign.project_id)
            out.schedule_name = schedules.get(campaign.schedule_id)
            out.channel_summaries = [channels[cid] for cid in campaign.channel_ids if cid in channels]
            outs.append(out)
        return outs

    async def _names(self, session: AsyncSession, stmt: Select) -> dict[int, str]:
        return {row[0]: row[1] for row in (await session.execute(stmt)).all()}

    # --- writes ------------------------------------------------------------------------
    async def build(self, session: AsyncSession, data: CampaignCreate) -> Campaign:
        await self._validate(session, data, previous=None, campaign_id=None)
        obj = Campaign(client_id=data.client_id)
        self._assign(obj, data)
        return obj

    async def apply(self, session: AsyncSession, obj: Campaign, data: CampaignUpdate) -> None:
        """A tab sent in the patch replaces that tab wholly; the result is validated like a new form."""
        if "client_id" in data.model_fields_set and data.client_id != obj.client_id:
            raise Invalid("A campaign cannot move to another client", field="client_id")
        changes = {key: getattr(data, key) for key in data.model_fields_set if key != "client_id"}
        form = _parse(_form(obj) | changes)
        await self._validate(session, form, previous=obj, campaign_id=obj.id)
        self._assign(obj, form)

    async def check_delete(self, session: AsyncSession, obj: Campaign) -> None:
        """Hook for the conversation engine: it will refuse (Conflict) deleting a campaign that
        still has conversations. Until then nothing blocks deleting a campaign."""

    async def duplicate(self, session: AsyncSession, caller: Caller, source: Campaign, name: Name | None, *,
                        clock: Clock) -> Campaign:
        """An inactive copy with every setting but the channels (configure later), so it never takes
        the source's channels. Named ``"<name> (copia)"`` (numbered until unique) unless ``name``."""
        caller.require_admin(source.client_id)
        form = _parse(_form(source) | {
            "name": name or await self._copy_name(session, source), "active": False,
            "channels": {"configure_later": True, "channel_ids": []}})
        await self._validate(session, form, previous=source, campaign_id=None)
        obj = Campaign(client_id=source.client_id)
        self._assign(obj, form)
        session.add(obj)
        await self._flush(session)
        obj = await self._reload(session, obj)
        await audit_service.record(session, caller=caller, action=AuditAction.create, entity_type=self.entity,
                                   entity_id=obj.id, client_id=obj.client_id, at=clock.now(),
                                   after=self.snapshot(obj))
        return obj

    async def _copy_name(self, session: AsyncSession, source: Campaign) -> str:
        taken = {fold(name) for name in (await self._project_names(session, source.project_id)).values()}
        for number in range(1, 10_000):
            suffix = " (copia)" if number == 1 else f" (copia {number})"
            candidate = source.name[:120 - len(suffix)].rstrip() + suffix
            if fold(candidate) not in taken:
                return candidate
        raise Conflict("Too many copies of this campaign; give the copy a name", field="name")

    def _assign(self, obj: Campaign, form: CampaignCreate) -> None:
        obj.project_id = form.project_id
        obj.name = form.name
        obj.survey_enabled = form.survey.enabled
        obj.survey_bot_id = form.survey.survey_bot_id
        obj.attention_bot_id = form.bot.attention_bot_id
        obj.bot_handoff_keywords = list(form.bot.handoff_keywords)
        obj.bot_max_misunderstandings = form.bot.misunderstandings_before_handoff
        obj.bot_answers_out_of_hours = form.bot.answers_out_of_hours
        obj.bot_resolved_typification_id = form.bot.resolved_typification_id
        obj.funnel_id = form.funnel_id
        obj.configure_channels_later = form.channels.configure_later
        obj.schedule_id = form.schedule.schedule_id
        obj.out_of_hours_action = form.schedule.out_of_hours_action
        obj.apply_to_queued = form.schedule.apply_to_queued
        obj.out_of_hours_message = form.schedule.out_of_hours_message
        obj.send_out_of_hours_message = form.schedule.send_out_of_hours_message
        for slot in TYPIFICATION_SLOTS:
            setattr(obj, f"typification_{slot}_id", getattr(form.typifications, slot))
        obj.inactivity_timeout_minutes = form.inactivity_timeout_minutes
        obj.permissions = CampaignPermissions.model_validate(form.permissions.model_dump())
        obj.assignment_method = form.assignment_method
        obj.active = form.active
        self._link_channels(obj, form.channels.channel_ids)
        self._link_fields(obj, form)

    def _link_channels(self, obj: Campaign, channel_ids: list[int]) -> None:
        """Keep the links that stay (same primary key), drop the rest, add the new ones."""
        kept = [link for link in obj.channel_links if link.channel_id in channel_ids]
        have = {link.channel_id for link in kept}
        obj.channel_links = kept + [CampaignChannel(channel_id=cid) for cid in channel_ids if cid not in have]

    def _link_fields(self, obj: Campaign, form: CampaignCreate) -> None:
        existing = {link.field_definition_id: link for link in obj.field_links}
        links = []
        for position, item in enumerate(form.fields):
            link = existing.get(item.field_definition_id) or CampaignField(field_definition_id=item.field_definition_id)
            link.required = item.required
            link.position = position
            links.append(link)
        obj.field_links = links

    # --- validation --------------------------------------------------------------------
    async def _validate(self, session: AsyncSession, form: CampaignCreate, *, previous: Campaign | None,
                        campaign_id: int | None) -> None:
        """Every rule of the form. ``previous`` holds references already assigned (those may have become
        inactive since); ``campaign_id`` is the campaign itself, left out of uniqueness checks."""
        _check_form(form)
        client = await session.get(Client, form.client_id)
        assert client is not None  # the caller's membership in it was checked first
        hours = form.permissions.history_hours
        if hours is not None and hours > client.plan_max_history_hours:
            raise Invalid(f"History hours cannot exceed the plan maximum of {client.plan_max_history_hours} hours",
                          field="permissions.history_hours")
        await self._check_references(session, form, previous)
        await self._check_unique_name(session, form, campaign_id)
        if form.active and form.channels.channel_ids:
            await self._check_channels_free(session, form.channels.channel_ids, campaign_id)

    async def _check_references(self, session: AsyncSession, form: CampaignCreate,
                                previous: Campaign | None) -> None:
        def kept(attribute: str) -> Any:
            return getattr(previous, attribute) if previous is not None else None

        cid = form.client_id
        # The project row is locked so two writers cannot both take one name in it.
        await self._reference(session, cid, Project, form.project_id, "project_id", "Project",
                              kept=kept("project_id"), lock=True)
        await self._reference(session, cid, Schedule, form.schedule.schedule_id, "schedule.schedule_id",
                              "Schedule", kept=kept("schedule_id"))
        if form.survey.survey_bot_id is not None:
            await self._reference(session, cid, SurveyBot, form.survey.survey_bot_id, "survey.survey_bot_id",
                                  "Survey bot", kept=kept("survey_bot_id"))
        if form.bot.attention_bot_id is not None:
            await self._reference(session, cid, AttentionBot, form.bot.attention_bot_id, "bot.attention_bot_id",
                                  "Attention bot", kept=kept("attention_bot_id"))
        if form.bot.resolved_typification_id is not None:
            await self._reference(session, cid, Typification, form.bot.resolved_typification_id,
                                  "bot.resolved_typification_id", "Typification",
                                  kept=kept("bot_resolved_typification_id"))
        if form.funnel_id is not None:
            await self._reference(session, cid, Funnel, form.funnel_id, "funnel_id", "Funnel",
                                  kept=kept("funnel_id"))
        for slot in TYPIFICATION_SLOTS:
            await self._reference(session, cid, Typification, getattr(form.typifications, slot),
                                  f"typifications.{slot}", "Typification",
                                  kept=kept(f"typification_{slot}_id"))
        await self._references(session, cid, Channel, form.channels.channel_ids, "channels.channel_ids.{}".format,
                               "Channel", kept=set(previous.channel_ids) if previous else set(),
                               lock=form.active)
        await self._references(session, cid, FieldDefinition, [f.field_definition_id for f in form.fields],
                               "fields.{}.field_definition_id".format, "Field",
                               kept={f.field_definition_id for f in previous.field_links} if previous else set())

    async def _reference(self, session: AsyncSession, client_id: int, model: type[Reference], item_id: int,
                         field: str, label: str, *, kept: int | None, lock: bool = False) -> None:
        await self._references(session, client_id, model, [item_id], lambda _index: field, label,
                               kept={kept} if kept is not None else set(), lock=lock)

    async def _references(self, session: AsyncSession, client_id: int, model: type[Reference], ids: list[int],
                          field_of: Callable[[int], str], label: str, *, kept: set[int],
                          lock: bool = False) -> None:
        """Each id must be a row of ``client_id``; an inactive one only if the campaign already had it.
        With ``lock``, the rows stay locked (taken in id order) until the transaction ends."""
        if not ids:
            return
        stmt = select(model).where(model.id.in_(ids), model.client_id == client_id).order_by(model.id)
        if lock:
            stmt = stmt.with_for_update()
        rows = {row.id: row for row in (await session.scalars(stmt)).all()}
        for index, item_id in enumerate(ids):
            row = rows.get(item_id)
            if row is None:
                raise Invalid(f"{label} {item_id} does not exist in this client", field=field_of(index))
            if not row.active and item_id not in kept:
                raise Invalid(f"{label} {item_id} is inactive; activate it before using it", field=field_of(index))

    async def _project_names(self, session: AsyncSession, project_id: int) -> dict[int, str]:
        return await self._names(session, select(Campaign.id, Campaign.name).where(Campaign.project_id == project_id))

    async def _check_unique_name(self, session: AsyncSession, form: CampaignCreate, campaign_id: int | None) -> None:
        other = await taken_by(session, Campaign, "name", form.name, parent=("project_id", form.project_id),
                               exclude_id=campaign_id)
        if other is not None:
            raise NameTaken(f"The project already has a campaign named «{other}»", "name",
                            code="campaign.name_taken", value=other)

    async def _check_channels_free(self, session: AsyncSession, channel_ids: list[int],
                                   campaign_id: int | None) -> None:
        """A channel serves at most one active campaign. The channel rows are already locked
        (``_references`` with ``lock``), so two writers cannot both take the same channel."""
        stmt = (select(Channel.name, Campaign.name, Campaign.id)
                .join(CampaignChannel, CampaignChannel.channel_id == Channel.id)
                .join(Campaign, Campaign.id == CampaignChannel.campaign_id)
                .where(Channel.id.in_(channel_ids), Campaign.active.is_(True))
                .order_by(Channel.id))
        if campaign_id is not None:
            stmt = stmt.where(Campaign.id != campaign_id)
        taken = (await session.execute(stmt)).first()
        if taken is not None:
            raise ChannelTaken(taken[0], taken[1], taken[2])


campaign_service = CampaignService()
