from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from atiende.campaigns.permissions import CampaignPermissions
from atiende.db import Base
from atiende.kit.columns import IdMixin, PydanticJSON, TimestampMixin, enum_type
from atiende.kit.unique import folded_column


BOT_HANDOFF_KEYWORDS = ("asesor", "agente", "humano", "persona")  # words that ask the bot for a person


class OutOfHoursAction(StrEnum):
    close = "close"
    queue = "queue"


class AssignmentMethod(StrEnum):
    smart = "smart"
    round_robin = "round_robin"


class Campaign(IdMixin, TimestampMixin, Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("project_id", "name_folded"),)
    __folded__ = "name"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = folded_column()
    # Detalle de la campaña
    survey_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_bot_id: Mapped[int | None] = mapped_column(ForeignKey("survey_bots.id", ondelete="RESTRICT"))
    funnel_id: Mapped[int | None] = mapped_column(ForeignKey("funnels.id", ondelete="RESTRICT"))
    # Detalle de la campaña: the attention bot that answers first, and when it hands off
    attention_bot_id: Mapped[int | None] = mapped_column(ForeignKey("attention_bots.id", ondelete="RESTRICT"))
    bot_handoff_keywords: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(BOT_HANDOFF_KEYWORDS))
    bot_max_misunderstandings: Mapped[int] = mapped_column(Integer, default=2)
    bot_answers_out_of_hours: Mapped[bool] = mapped_column(Boolean, default=True)
    bot_resolved_typification_id: Mapped[int | None] = mapped_column(
        ForeignKey("typifications.id", ondelete="RESTRICT"))
    # Canales
    configure_channels_later: Mapped[bool] = mapped_column(Boolean, default=False)
    # Horario
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="RESTRICT"))
    out_of_hours_action: Mapped[OutOfHoursAction] = mapped_column(enum_type(OutOfHoursAction))
    apply_to_queued: Mapped[bool] = mapped_column(Boolean, default=False)
    out_of_hours_message: Mapped[str] = mapped_column(Text, default="")
    send_out_of_hours_message: Mapped[bool] = mapped_column(Boolean, default=False)
    # Tipificaciones
    typification_inactivity_id: Mapped[int] = mapped_column(ForeignKey("typifications.id", ondelete="RESTRICT"))
    typification_transferred_id: Mapped[int] = mapped_column(ForeignKey("typifications.id", ondelete="RESTRICT"))
    typification_agent_closed_id: Mapped[int] = mapped_column(ForeignKey("typifications.id", ondelete="RESTRICT"))
    typification_mass_transfer_id: Mapped[int] = mapped_column(ForeignKey("typifications.id", ondelete="RESTRICT"))
    inactivity_timeout_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Permisos
    permissions: Mapped[CampaignPermissions] = mapped_column(
        PydanticJSON(CampaignPermissions), default=CampaignPermissions)
    # Método de asignación
    assignment_method: Mapped[AssignmentMethod] = mapped_column(enum_type(AssignmentMethod))
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    channel_links: Mapped[list["CampaignChannel"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CampaignChannel.channel_id")
    field_links: Mapped[list["CampaignField"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="CampaignField.position")

    @property
    def channel_ids(self) -> list[int]:
        return [link.channel_id for link in self.channel_links]


class CampaignChannel(Base):
    __tablename__ = "campaign_channels"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="RESTRICT"), primary_key=True,
                                            index=True)


class CampaignField(Base):
    """A dynamic field the campaign's agents fill in, in ``position`` order."""

    __tablename__ = "campaign_fields"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    field_definition_id: Mapped[int] = mapped_column(
        ForeignKey("field_definitions.id", ondelete="RESTRICT"), primary_key=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
