"""Marks a conversation's report facts dirty in the transaction that changes it.

Every flush notes which conversations its rows touch (the conversation itself, a new message, an
assignment, a survey answer) and which campaigns or schedules changed in a way that moves
already computed facts (a campaign's project or schedule; a schedule's bands or holidays: the
business times; an SLA policy: the service level in the hour counts; the client's time zone: the
local days of the duration buckets). Just before the session commits, one ``INSERT … SELECT`` per kind writes those
conversations into ``report_dirty_conversations``; the refresh (``reports.rollups``) recomputes
them and removes the marks. A rollback drops the marks with the change; a commit keeps both.

On PostgreSQL the mark is an upsert that updates the row when it exists: it waits for a refresh
holding that row and, once the refresh deleted it, inserts it again, so a change committed while
its conversation was being recomputed is never lost."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, event, inspect, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from atiende.campaigns.models import Campaign
from atiende.catalog.models import Holiday, Schedule, TimeBand
from atiende.conversations.models import Assignment, Conversation, Message, SurveyResponse
from atiende.db import UTCDateTime
from atiende.reports.models import DirtyConversation, SlaPolicy
from atiende.tenancy.models import Client

_CONVERSATIONS = "report_dirty_conversations"
_CAMPAIGNS = "report_dirty_campaigns"
_SCHEDULES = "report_dirty_schedules"
_CLIENTS = "report_dirty_clients"
_KEYS = (_CONVERSATIONS, _CAMPAIGNS, _SCHEDULES, _CLIENTS)


def _note(session: Session, key: str, value: int | None) -> None:
    if value is not None:
        session.info.setdefault(key, set()).add(value)


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: Any) -> None:
    for obj in session.new:
        _touched(session, obj, new=True)
    for obj in session.dirty:
        _touched(session, obj, new=False)
    for obj in session.deleted:
        _touched(session, obj, new=True)


def _touched(session: Session, obj: object, *, new: bool) -> None:
    if isinstance(obj, Conversation):
        _note(session, _CONVERSATIONS, obj.id)
    elif isinstance(obj, (Assignment, SurveyResponse)):
        _note(session, _CONVERSATIONS, obj.conversation_id)
    elif isinstance(obj, Message):
        if new:  # a delivery status moves no metric; a message's arrival does
            _note(session, _CONVERSATIONS, obj.conversation_id)
    elif isinstance(obj, Campaign):
        if not new and _changed(obj, "project_id", "schedule_id"):
            _note(session, _CAMPAIGNS, obj.id)
    elif isinstance(obj, Schedule):
        _note(session, _SCHEDULES, obj.id)
    elif isinstance(obj, (TimeBand, Holiday)):
        _note(session, _SCHEDULES, obj.schedule_id)
    elif isinstance(obj, SlaPolicy):  # the hour counts hold the service level of the policies
        if obj.campaign_id is not None:
            _note(session, _CAMPAIGNS, obj.campaign_id)
        else:
            _note(session, _CLIENTS, obj.client_id)
    elif isinstance(obj, Client):  # the day buckets are the client's local days
        if not new and _changed(obj, "timezone"):
            _note(session, _CLIENTS, obj.id)


def _changed(obj: object, *names: str) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in _KEYS:
        session.info.pop(key, None)


@event.listens_for(Session, "before_commit")
def _mark(session: Session) -> None:
    session.flush()  # before_commit runs before the commit's own flush: note its rows too
    conversations = session.info.pop(_CONVERSATIONS, set())
    campaigns = session.info.pop(_CAMPAIGNS, set())
    schedules = session.info.pop(_SCHEDULES, set())
    clients = session.info.pop(_CLIENTS, set())
    if schedules:
        campaigns |= set(session.scalars(select(Campaign.id).where(Campaign.schedule_id.in_(schedules))).all())
    if conversations:
        mark(session, select(Conversation.id, Conversation.client_id).where(Conversation.id.in_(conversations)))
    if campaigns:
        mark(session, select(Conversation.id, Conversation.client_id).where(Conversation.campaign_id.in_(campaigns)))
    if clients:
        mark(session, select(Conversation.id, Conversation.client_id).where(Conversation.client_id.in_(clients)))


def mark(session: Session, rows: Select[Any]) -> None:
    """Mark the conversations of ``rows`` (id, client_id) dirty, in the session's transaction."""
    now = datetime.now(UTC)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # In id order, so two transactions marking overlapping sets lock the marks in the same order.
    stmt = insert(DirtyConversation).from_select(
        ["conversation_id", "client_id", "marked_at"],
        rows.add_columns(_literal(now)).order_by(rows.selected_columns[0]))
    session.execute(stmt.on_conflict_do_update(index_elements=["conversation_id"],
                                               set_={"marked_at": stmt.excluded.marked_at}))


def _literal(now: datetime) -> Any:
    return literal(now, UTCDateTime()).label("marked_at")
