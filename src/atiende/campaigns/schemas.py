"""The campaign as the console edits it: one object per tab of the form.

``CampaignCreate`` is the whole form; ``CampaignUpdate`` any subset of its top-level keys (a tab
sent in a PATCH replaces that tab wholly). ``CampaignOut`` is the same shape plus ids, timestamps
and display names for list screens. Cross-field and database rules live in the service.
"""

from datetime import datetime

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from atiende.campaigns.models import BOT_HANDOFF_KEYWORDS, AssignmentMethod, OutOfHoursAction
from atiende.campaigns.permissions import CampaignPermissions
from atiende.channels.models import ChannelKind
from atiende.kit.schemas import Id, InSchema, LongText, Name, OutSchema, storable

MAX_CHANNELS = 50
MAX_FIELDS = 100


class SurveyTab(InSchema):
    """Detalle de la campaña: the survey sent when a conversation ends."""

    enabled: bool = False
    survey_bot_id: Id | None = None


Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60),
                   AfterValidator(storable)]


class BotTab(InSchema):
    """Detalle de la campaña: the attention bot that answers before the agents, and its handoff."""

    attention_bot_id: Id | None = None
    handoff_keywords: list[Keyword] = Field(default_factory=lambda: list(BOT_HANDOFF_KEYWORDS),
                                            max_length=30, description="A customer who writes one is handed off")
    misunderstandings_before_handoff: int = Field(2, ge=1, le=10)
    answers_out_of_hours: bool = Field(True, description="Off: out of hours the campaign's Cerrar/Encolar "
                                                         "applies at once; on: it applies at handoff")
    resolved_typification_id: Id | None = Field(None, description="Stamped when the bot resolves alone")


class ChannelsTab(InSchema):
    configure_later: bool = Field(False, description="Configurar canales después: allows no channels yet")
    channel_ids: list[Id] = Field(default_factory=list, max_length=MAX_CHANNELS,
                                  description="A set of channels: read back in id order")


class ScheduleTab(InSchema):
    schedule_id: Id
    out_of_hours_action: OutOfHoursAction = Field(description="close (Cerrar) or queue (Encolar)")
    apply_to_queued: bool = Field(False, description="Also apply the action to conversations already queued")
    out_of_hours_message: LongText = ""
    send_out_of_hours_message: bool = False


class TypificationsTab(InSchema):
    """The disposition stamped on a conversation closed by each cause."""

    inactivity: Id
    transferred: Id
    agent_closed: Id
    mass_transfer: Id


class PermissionsTab(CampaignPermissions):
    """The Permisos tab as a request body: unknown keys refused, JSON types taken at their word."""

    model_config = ConfigDict(extra="forbid", strict=True)


class CampaignFieldIn(InSchema):
    field_definition_id: Id
    required: bool = False


class CampaignCreate(InSchema):
    client_id: Id
    project_id: Id
    name: Name
    survey: SurveyTab = Field(default_factory=SurveyTab)
    bot: BotTab = Field(default_factory=BotTab)
    funnel_id: Id | None = None
    channels: ChannelsTab = Field(default_factory=ChannelsTab)
    schedule: ScheduleTab
    typifications: TypificationsTab
    inactivity_timeout_minutes: int = Field(30, ge=1, le=10080, description="Minutes (at most one week)")
    permissions: PermissionsTab = Field(default_factory=PermissionsTab)
    fields: list[CampaignFieldIn] = Field(default_factory=list, max_length=MAX_FIELDS)
    assignment_method: AssignmentMethod = Field(description="smart (Inteligente) or round_robin")
    active: bool = True


class CampaignUpdate(InSchema):
    """Any subset of the top-level keys; ``client_id`` may be sent but never changes."""

    client_id: Id | None = None
    project_id: Id | None = None
    name: Name | None = None
    survey: SurveyTab | None = None
    bot: BotTab | None = None
    funnel_id: Id | None = None
    channels: ChannelsTab | None = None
    schedule: ScheduleTab | None = None
    typifications: TypificationsTab | None = None
    inactivity_timeout_minutes: int | None = Field(None, ge=1, le=10080)
    permissions: PermissionsTab | None = None
    fields: list[CampaignFieldIn] | None = Field(None, max_length=MAX_FIELDS)
    assignment_method: AssignmentMethod | None = None
    active: bool | None = None


class DuplicateIn(InSchema):
    name: Name | None = Field(None, description='Default: "<name> (copia)", numbered until unique')


class ChannelSummary(OutSchema):
    id: int
    name: str
    kind: ChannelKind


class CampaignOut(OutSchema):
    id: int
    client_id: int
    project_id: int
    name: str
    survey: SurveyTab
    bot: BotTab
    funnel_id: int | None
    channels: ChannelsTab
    schedule: ScheduleTab
    typifications: TypificationsTab
    inactivity_timeout_minutes: int
    permissions: CampaignPermissions
    fields: list[CampaignFieldIn]
    assignment_method: AssignmentMethod
    active: bool
    created_at: datetime
    updated_at: datetime
    # display data for list screens (not part of the settings, not audited)
    project_name: str | None = None
    schedule_name: str | None = None
    channel_summaries: list[ChannelSummary] = Field(default_factory=list)


DISPLAY_KEYS = {"project_name", "schedule_name", "channel_summaries"}
