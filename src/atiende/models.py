"""Imports every domain's tables so metadata (Alembic, tests) sees the whole schema."""

from atiende.audit.models import AuditEvent
from atiende.auth.models import AccessToken, LoginAttempt, Membership, User
from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.campaigns.models import Campaign, CampaignChannel, CampaignField
from atiende.catalog.models import (
    FieldDefinition, Funnel, FunnelStage, Holiday, Schedule, SurveyBot, SurveyQuestion, TimeBand, Typification,
)
from atiende.channels.models import Channel
from atiende.channels.whatsapp.models import WhatsAppTemplate, WhatsAppTemplateMessage
from atiende.contacts.models import ConsentChange, ContactConsent, ContactImport, ContactImportRow, ContactSettings
from atiende.conversations.canned import CannedReply
from atiende.conversations.models import (
    Assignment, CampaignAgent, Contact, ContactIdentity, Conversation, DispatchState, Message, SurveyResponse,
)
from atiende.db import Base
from atiende.integrations.models import WebhookDelivery, WebhookSubscription
from atiende.jobs import ScheduledJob
from atiende.outbound.models import ChannelPacing, OutboundRecipient, OutboundSend
from atiende.reports import dirty  # noqa: F401  (marks report facts dirty in the changing transaction)
from atiende.reports.models import (
    AssignmentFact, ConversationFact, DirtyConversation, PresenceSpan, SlaBreach, SlaPolicy,
)
from atiende.tenancy.models import Client, Project

__all__ = [
    "AttentionBot", "KnowledgeEntry",
    "ConsentChange", "ContactConsent", "ContactImport", "ContactImportRow", "ContactSettings",
    "Assignment", "CampaignAgent", "CannedReply", "Contact", "ContactIdentity", "Conversation", "DispatchState",
    "Message", "SurveyResponse", "WhatsAppTemplate", "WhatsAppTemplateMessage",
    "AccessToken", "AuditEvent", "Base", "Campaign", "CampaignChannel", "CampaignField", "Channel", "Client",
    "FieldDefinition", "Funnel", "FunnelStage", "Holiday", "LoginAttempt", "Membership", "Project", "Schedule",
    "ScheduledJob", "SurveyBot", "SurveyQuestion", "TimeBand", "Typification", "User",
    "WebhookDelivery", "WebhookSubscription", "PresenceSpan", "SlaBreach", "SlaPolicy",
    "AssignmentFact", "ConversationFact", "DirtyConversation", "ChannelPacing", "OutboundRecipient", "OutboundSend",
]
