"""The campaign form as the modal edits it: a draft of the seven tabs, which mandatory values
are still missing (that keeps Guardar disabled and marks tabs), and the choices of one client.

The draft becomes the campaign service's own schema (``CampaignCreate`` / ``CampaignUpdate``);
every business rule is the service's. What is checked here is only presence — what the form
needs before it may be sent — and the plan's history-hours cap the issue asks the input to show.
"""

from dataclasses import dataclass, field
from typing import Any

from atiende.bots.models import AttentionBot
from atiende.bots.service import attention_bot_service
from atiende.campaigns.models import AssignmentMethod, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.campaigns.schemas import BotTab, CampaignOut
from atiende.campaigns.service import TYPIFICATION_SLOTS
from atiende.catalog.models import FieldDefinition, FieldType, Funnel, Schedule, SurveyBot, Typification
from atiende.catalog.service import (field_definition_service, funnel_service, schedule_service,
                                     survey_bot_service, typification_service)
from atiende.channels.models import Channel
from atiende.channels.service import channel_service
from atiende.tenancy.models import Project
from atiende.tenancy.service import client_service, project_service
from atiende.ui.context import Acting
from atiende.ui.data import fetch_all
from atiende.ui.numbers import out_of_range

TABS = ("detail", "channels", "schedule", "typifications", "permissions", "fields", "assignment")
PERMISSION_SWITCHES = ("external_resources", "transfer_between_agents", "show_contact_number", "history_enabled",
                       "reassign_when_exclusive_offline", "close_without_reply", "emojis", "voice_notes")


def tab_of(field_path: str | None) -> str:
    """The tab that holds a field named by the service ("typifications.transferred" → typifications)."""
    head = (field_path or "").split(".", 1)[0]
    return {"channels": "channels", "schedule": "schedule", "typifications": "typifications",
            "inactivity_timeout_minutes": "typifications", "permissions": "permissions", "fields": "fields",
            "assignment_method": "assignment"}.get(head, "detail")


def _rows() -> list[dict[str, Any]]:
    return []


@dataclass
class CampaignDraft:
    client_id: int | None
    project_id: int | None = None
    name: str = ""
    active: bool = True
    survey_enabled: bool = False
    survey_bot_id: int | None = None
    bot: dict[str, Any] = field(default_factory=lambda: BotTab().model_dump())
    funnel_id: int | None = None
    configure_later: bool = False
    channel_ids: list[int] = field(default_factory=list)
    schedule_id: int | None = None
    out_of_hours_action: OutOfHoursAction | None = None
    apply_to_queued: bool = False
    out_of_hours_message: str = ""
    send_out_of_hours_message: bool = False
    typifications: dict[str, int | None] = field(default_factory=lambda: dict.fromkeys(TYPIFICATION_SLOTS))
    inactivity_timeout_minutes: float | None = 30
    permissions: dict[str, Any] = field(default_factory=lambda: CampaignPermissions().model_dump())
    fields: list[dict[str, Any]] = field(default_factory=_rows)  # {"type", "field_definition_id", "required"}
    assignment_method: AssignmentMethod | None = None

    @classmethod
    def from_campaign(cls, campaign: CampaignOut, field_types: dict[int, FieldType]) -> "CampaignDraft":
        return cls(
            client_id=campaign.client_id, project_id=campaign.project_id, name=campaign.name, active=campaign.active,
            survey_enabled=campaign.survey.enabled, survey_bot_id=campaign.survey.survey_bot_id,
            bot=campaign.bot.model_dump(),
            funnel_id=campaign.funnel_id, configure_later=campaign.channels.configure_later,
            channel_ids=list(campaign.channels.channel_ids), schedule_id=campaign.schedule.schedule_id,
            out_of_hours_action=campaign.schedule.out_of_hours_action,
            apply_to_queued=campaign.schedule.apply_to_queued,
            out_of_hours_message=campaign.schedule.out_of_hours_message,
            send_out_of_hours_message=campaign.schedule.send_out_of_hours_message,
            typifications=campaign.typifications.model_dump(),
            inactivity_timeout_minutes=campaign.inactivity_timeout_minutes,
            permissions=campaign.permissions.model_dump(),
            fields=[{"type": field_types.get(f.field_definition_id), "field_definition_id": f.field_definition_id,
                     "required": f.required} for f in campaign.fields],
            assignment_method=campaign.assignment_method)

    def missing(self, plan_max_history_hours: int) -> dict[str, list[str]]:
        """Per tab, the fields that still need a value (or hold one the form cannot send)."""
        gaps: dict[str, list[str]] = {tab: [] for tab in TABS}

        def need(ok: bool, field_path: str) -> None:
            if not ok:
                gaps[tab_of(field_path)].append(field_path)

        need(self.client_id is not None, "client_id")
        need(self.project_id is not None, "project_id")
        need(bool(self.name.strip()), "name")
        need(not self.survey_enabled or self.survey_bot_id is not None, "survey.survey_bot_id")
        need(out_of_range(self.bot.get("misunderstandings_before_handoff"), 1, 10) is None
             and isinstance(self.bot.get("misunderstandings_before_handoff"), int | float),
             "bot.misunderstandings_before_handoff")
        need(self.configure_later or bool(self.channel_ids), "channels.channel_ids")
        need(self.schedule_id is not None, "schedule.schedule_id")
        need(self.out_of_hours_action is not None, "schedule.out_of_hours_action")
        need(not self.send_out_of_hours_message or bool(self.out_of_hours_message.strip()),
             "schedule.out_of_hours_message")
        for slot in TYPIFICATION_SLOTS:
            need(self.typifications.get(slot) is not None, f"typifications.{slot}")
        need(isinstance(self.inactivity_timeout_minutes, int | float)
             and out_of_range(self.inactivity_timeout_minutes, 1, 10080) is None, "inactivity_timeout_minutes")
        hours = self.permissions.get("history_hours")
        need(not self.permissions.get("history_enabled")
             or (isinstance(hours, int | float) and 1 <= hours <= plan_max_history_hours), "permissions.history_hours")
        for index, row in enumerate(self.fields):
            need(row.get("field_definition_id") is not None, f"fields.{index}.field_definition_id")
        need(self.assignment_method is not None, "assignment_method")
        return gaps

    def payload(self) -> dict[str, Any]:
        """The form in the service's one-object-per-tab shape (``CampaignCreate``)."""
        permissions = dict(self.permissions)
        hours = permissions.get("history_hours")
        permissions["history_hours"] = int(hours) if permissions.get("history_enabled") and hours else None
        return {
            "client_id": self.client_id, "project_id": self.project_id, "name": self.name, "active": self.active,
            "survey": {"enabled": self.survey_enabled,
                       "survey_bot_id": self.survey_bot_id if self.survey_enabled else None},
            "bot": {**self.bot, "handoff_keywords": list(self.bot.get("handoff_keywords") or []),
                    "misunderstandings_before_handoff": _whole(self.bot.get("misunderstandings_before_handoff"))},
            "funnel_id": self.funnel_id,
            # *Configurar canales después* sends no channel: the ones still ticked are set aside, so a
            # channel another campaign holds cannot stop the campaign from saving.
            "channels": {"configure_later": self.configure_later,
                         "channel_ids": [] if self.configure_later else list(self.channel_ids)},
            "schedule": {"schedule_id": self.schedule_id, "out_of_hours_action": self.out_of_hours_action,
                         "apply_to_queued": self.apply_to_queued, "out_of_hours_message": self.out_of_hours_message,
                         "send_out_of_hours_message": self.send_out_of_hours_message},
            "typifications": dict(self.typifications),
            "inactivity_timeout_minutes": _whole(self.inactivity_timeout_minutes),
            "permissions": permissions,
            "fields": [{"field_definition_id": r["field_definition_id"], "required": bool(r.get("required"))}
                       for r in self.fields],
            "assignment_method": self.assignment_method,
        }


def _whole(value: float | None) -> int | float | None:
    return int(value) if isinstance(value, float) and value.is_integer() else value


@dataclass
class CampaignChoices:
    """What the selects of one client offer: active items, plus the ones the campaign already uses."""

    client_id: int
    plan_max_history_hours: int
    projects: list[Project]
    survey_bots: list[SurveyBot]
    attention_bots: list[AttentionBot]
    funnels: list[Funnel]
    channels: list[Channel]
    schedules: list[Schedule]
    typifications: list[Typification]
    fields: list[FieldDefinition]

    def field_types(self) -> dict[int, FieldType]:
        return {f.id: f.type for f in self.fields}


async def load_choices(acting: Acting, client_id: int, keep: set[tuple[str, int]] | None = None) -> CampaignChoices:
    """The client's catalog for the form; ``keep`` names inactive rows the edited campaign uses."""
    keep = keep or set()

    async def rows(kind: str, service: Any) -> list[Any]:
        items = await fetch_all(service.list, acting.session, acting.caller, client_id=client_id)
        return [i for i in items if getattr(i, "active", True) or (kind, i.id) in keep]

    client = await client_service.get(acting.session, acting.caller, client_id)
    return CampaignChoices(
        client_id=client_id, plan_max_history_hours=client.plan_max_history_hours if client else 1,
        projects=await rows("project", project_service), survey_bots=await rows("survey_bot", survey_bot_service),
        attention_bots=await rows("attention_bot", attention_bot_service),
        funnels=await rows("funnel", funnel_service), channels=await rows("channel", channel_service),
        schedules=await rows("schedule", schedule_service),
        typifications=await rows("typification", typification_service),
        fields=await rows("field", field_definition_service))


def kept_references(campaign: CampaignOut) -> set[tuple[str, int]]:
    refs = {("project", campaign.project_id), ("schedule", campaign.schedule.schedule_id)}
    refs |= {("typification", i) for i in campaign.typifications.model_dump().values()}
    refs |= {("channel", i) for i in campaign.channels.channel_ids}
    refs |= {("field", f.field_definition_id) for f in campaign.fields}
    if campaign.survey.survey_bot_id:
        refs.add(("survey_bot", campaign.survey.survey_bot_id))
    if campaign.funnel_id:
        refs.add(("funnel", campaign.funnel_id))
    if campaign.bot.attention_bot_id:
        refs.add(("attention_bot", campaign.bot.attention_bot_id))
    if campaign.bot.resolved_typification_id:
        refs.add(("typification", campaign.bot.resolved_typification_id))
    return refs
