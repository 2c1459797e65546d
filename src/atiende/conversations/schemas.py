"""Request and response bodies of the conversation, agent and API-channel endpoints."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from pydantic.functional_validators import AfterValidator

from atiende.auth.models import Presence
from atiende.channels.protocol import MAX_ATTACHMENTS, Attachment
from atiende.conversations.models import (
    BotHandoffReason, CloseReason, ConversationStatus, DeliveryStatus, Direction, EndReason, SenderKind, SurveyOutcome,
)
from atiende.kit.schemas import Id, InSchema, LongText, OutSchema, storable

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(storable)]
FieldKey = Annotated[str, StringConstraints(min_length=1, max_length=60)]
MAX_FIELDS = 100


# --- API channel ------------------------------------------------------------------------------

class InboundContactIn(InSchema):
    external_id: ExternalId = Field(description="Your id for the person; stable across their messages")
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120),
                    AfterValidator(storable)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32),
                     AfterValidator(storable)] | None = Field(None, description="International format, +57…")


class InboundIn(InSchema):
    external_id: ExternalId = Field(description="Your id for this message: the same id is stored once")
    contact: InboundContactIn
    text: LongText = ""
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    timestamp: AwareDatetime | None = None

    @model_validator(mode="after")
    def _has_content(self) -> "InboundIn":
        if not self.text.strip() and not self.attachments:
            raise ValueError("a message needs text or attachments")
        return self


class InboundOut(OutSchema):
    """The answer once the message is stored. Routing (contact, conversation, assignment) follows
    the answer, so a first delivery has no message or conversation id yet; a redelivery gets them
    when routing is done."""

    delivery_id: int = Field(description="Atiende's id for this accepted delivery")
    duplicate: bool = Field(description="This external_id was accepted before; nothing new was stored")
    state: str = Field(description="pending (accepted, routing follows), routed, or failed")
    message_id: int | None = None
    conversation_id: int | None = None


class StatusIn(InSchema):
    message_id: Id | None = Field(None, description="Atiende's message id (sent in the callback)")
    external_id: ExternalId | None = Field(None, description="Or the id your system returned for it")
    status: DeliveryStatus
    reason: Annotated[str, StringConstraints(max_length=500), AfterValidator(storable)] | None = None
    timestamp: AwareDatetime | None = None

    @model_validator(mode="after")
    def _names_the_message(self) -> "StatusIn":
        if self.message_id is None and self.external_id is None:
            raise ValueError("send message_id or external_id")
        if self.status == DeliveryStatus.queued:
            raise ValueError("status must be sent, delivered, read or failed")
        return self


class StatusOut(OutSchema):
    message_id: int
    status: DeliveryStatus
    changed: bool


# --- conversations ----------------------------------------------------------------------------

class ContactOut(OutSchema):
    id: int
    name: str
    phone: str | None = Field(description="Hidden (null) for agents unless the campaign shows it")
    exclusive_agent_id: int | None


class MessageOut(OutSchema):
    id: int
    direction: Direction
    sender: SenderKind
    author_membership_id: int | None
    text: str
    attachments: list[dict[str, Any]]
    status: DeliveryStatus | None
    failure_reason: str | None
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


class AssignmentOut(OutSchema):
    id: int
    membership_id: int
    started_at: datetime
    ended_at: datetime | None
    end_reason: EndReason | None
    typification_id: int | None


class SurveyAnswerOut(OutSchema):
    position: int
    kind: str
    question: str
    answer: str
    value: Any = None
    valid: bool
    answered_at: datetime


class ConversationOut(OutSchema):
    id: int
    client_id: int
    campaign_id: int
    channel_id: int
    contact: ContactOut
    status: ConversationStatus
    opened_at: datetime
    queued_at: datetime | None
    assigned_membership_id: int | None
    assigned_at: datetime | None
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    agent_replied: bool
    funnel_stage_id: int | None
    field_values: dict[str, Any]
    closed_at: datetime | None
    close_reason: CloseReason | None
    typification_id: int | None
    survey_outcome: SurveyOutcome | None
    bot_handoff_reason: BotHandoffReason | None = Field(
        None, description="Why the attention bot handed it to the agents (none: no bot, or not yet)")


class PastConversationOut(OutSchema):
    id: int
    opened_at: datetime
    closed_at: datetime | None
    typification_id: int | None
    messages: list[MessageOut]


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]
    assignments: list[AssignmentOut]
    survey: list[SurveyAnswerOut]
    history: list[PastConversationOut] = Field(
        description="The contact's earlier conversations in this campaign within its history hours "
                    "(empty when the campaign has no history)")


class MessageIn(InSchema):
    text: LongText = ""
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)

    @model_validator(mode="after")
    def _has_content(self) -> "MessageIn":
        if not self.text.strip() and not self.attachments:
            raise ValueError("write a message or attach something")
        return self


class TransferIn(InSchema):
    membership_id: Id = Field(description="The agent (membership) who takes the conversation")


class AssignIn(InSchema):
    membership_id: Id = Field(description="The agent (membership) of the campaign who takes the queued conversation")


class CloseIn(InSchema):
    typification_id: Id | None = Field(None, description="Default: the campaign's 'finalizada por el agente'")
    fields: dict[FieldKey, Any] = Field(default_factory=dict, max_length=MAX_FIELDS)


class FieldsIn(InSchema):
    fields: dict[FieldKey, Any] = Field(max_length=MAX_FIELDS, description="null clears a value")


class StageIn(InSchema):
    stage_id: Id


# --- agents, campaigns ------------------------------------------------------------------------

class PresenceIn(InSchema):
    presence: Presence
    client_id: Id | None = Field(None, description="Needed when you work for several clients")


class PresenceOut(OutSchema):
    membership_id: int
    client_id: int
    presence: Presence
    presence_changed_at: datetime


class CampaignAgentIn(InSchema):
    membership_id: Id
    capacity: int | None = Field(None, ge=1, le=1000, description="Simultaneous conversations; null: client default")


class CampaignAgentsIn(InSchema):
    agents: list[CampaignAgentIn] = Field(max_length=1000)


class AgentCampaignIn(InSchema):
    campaign_id: Id
    capacity: int | None = Field(None, ge=1, le=1000, description="Simultaneous conversations; null: client default")


class AgentCampaignsIn(InSchema):
    campaigns: list[AgentCampaignIn] = Field(max_length=1000)


class AgentCampaignOut(OutSchema):
    campaign_id: int
    name: str
    active: bool
    member: bool = Field(description="The agent works this campaign")
    capacity: int | None = Field(description="The agent's capacity here; null: the client's default")


class CampaignAgentOut(OutSchema):
    membership_id: int
    full_name: str
    email: str
    capacity: int
    capacity_is_default: bool
    load: int
    presence: Presence
    presence_changed_at: datetime
    last_assigned_at: datetime | None


class MassTransferIn(InSchema):
    from_membership_id: Id
    to_membership_id: Id | None = Field(None, description="null: back to the queue")


class MassTransferOut(OutSchema):
    transferred: list[int]
    queued: list[int]


class QueueItemOut(OutSchema):
    conversation_id: int
    contact_name: str
    channel_id: int
    queued_at: datetime
    waiting_seconds: int
