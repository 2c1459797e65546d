"""The engine of a send: one durable job per send (``run_send``) that, run after run, claims a chunk
of pending recipients and sends each the campaign's template (or, on Telegram and API channels,
its text), paced, at most once.

**At most once.** A recipient moves pending → claimed (taken by this run) → sending (recorded and
committed *before* the HTTP call starts, for about 100 ms of slots at a time) → sent / failed, or back to pending only when Meta
answered and so nothing reached the customer (throughput or pair-rate limits, a refused
connection, a 5xx). A row left ``sending`` by a run that died (a crash, ``kill -9``, a timeout
whose outcome is unknown) is marked ``uncertain`` (incierto) and is never sent again by itself:
a customer may miss the message, but never gets it twice. (A crash makes the rows of the group
being sent and of the next one, whose entries are written while this one goes out, uncertain,
and the successes not yet written: at most ~200 ms of sending plus the calls in flight.) Rows left
``claimed`` had no call yet and go back to pending. A run treats a row as abandoned only after ``STALE`` (longer than any run
holds a chunk), so several workers can run without stepping on each other; claims use
``FOR UPDATE SKIP LOCKED`` on PostgreSQL.

**Pacing.** The configured rate holds across processes: each run reserves its slots on the
channel's ``outbound_channel_pacing`` row (in a row lock), about a second of them at a time,
``1/rate`` seconds apart after the last slot anyone reserved, and starts each call at its slot; a run that fell behind its slots
starts a call as soon as its own call ``rate`` calls back is a second old, so it catches up
without a burst: over any one-second window at most ``rate`` calls of a run start. A call may start
up to ``EARLY`` (2 ms) before its slot, never before that window allows: the event loop's timers
tick in milliseconds. The next chunk is checked and claimed during the last second of the current
one and sent by the same run (for up to ``RUN_LIMIT``), so a long send does not pause between
chunks. Time and sleep come from the job context (tests use a fake clock).

**Window and limits.** With ``respect_schedule`` a run outside the campaign's schedule (holidays
included) waits for its next opening, and resumes by itself. The channel's daily limit of unique
recipients (``daily_recipient_limit``, Meta's messaging limit in a moving 24 hours, shared by the
numbers of one business portfolio: ``messaging_limit``) defers the rest until the oldest attempt of
the window is 24 h old; nothing is dropped.

**Meta's errors.** 130429 (throughput): the recipient is retried, and the send holds with a
back-off. 131056 (pair rate limit): that recipient is retried a minute later. 131049 (per-user
marketing cap): failed, not retried within 24 hours. 131048 (spam rate limit) or
``max_consecutive_failures`` failures in a row: the send pauses, with the reason. Other errors
(131026 undeliverable, 132000/132001 template parameters or name, …): the recipient fails with
Meta's code and title.

**Text sends (Telegram, API channel).** The same ledger, pacing and crash rules. Each claimed chunk
reads the contacts' ids on the channel in one query (a contact with none is omitted,
``no_conversation``); each recipient gets the text with their values through the channel's own
sender (``reach.deliver_text``). A refused connection puts the row back to pending; a timeout or a
dropped answer makes it uncertain; the channel's refusal (Telegram 403 "bot was blocked", a 4xx
of the callback) fails it with the reason; a 5xx retries it later; Telegram's 429 holds the send
for the ``retry_after`` asked. A text that, with the recipient's values, is longer than the
channel takes fails that recipient (a message is never split into parts).
"""

import asyncio
import functools
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign
from atiende.catalog.schedule_snapshots import next_change_of, open_now, schedule_of
from atiende.channels.models import Channel, ChannelKind
from atiende.channels.protocol import PermanentSendError, RetryableSendError
from atiende.channels.whatsapp.adapter import DEFAULT_API_VERSION
from atiende.channels.whatsapp.client import Recipient, WhatsAppClient
from atiende.channels.whatsapp.errors import GraphError
from atiende.channels.whatsapp.templates import Template, TemplateParameterError
from atiende.clock import as_utc
from atiende.errors import cause_of
from atiende.jobs import JobContext, backoff, enqueue, job
from atiende.kit.http import new_client
from atiende.outbound import contacts_bridge, reach
from atiende.outbound.models import (
    ChannelPacing, OutboundRecipient, OutboundSend, RecipientState, SendStatus, SkipReason,
)
from atiende.outbound.service import job_key, messaging_limit, messaging_room, outbound_service, render
from atiende.outbound.text_message import limit_of, render_text

log = logging.getLogger(__name__)

STALE = timedelta(minutes=10)
RUN_LIMIT = timedelta(minutes=2)  # a run chains chunks this long, well inside the job's lease (5 min)
CHUNK_SECONDS = 10  # a run claims at most this many seconds of sending
MAX_CHUNK = 10_000
CONCURRENCY = 100  # calls in flight at once, at least (half the rate when that is more)
ONE_SECOND = timedelta(seconds=1)
GROUPS_PER_SECOND = 10  # rows are marked sending about 100 ms of slots at a time
EARLY = 0.002  # seconds a call may start before its slot (never before the one-second window allows)
MAX_RETRIES = 5  # calls that reached no one, before the recipient fails
PAIR_RETRY = timedelta(minutes=1)
MARKETING_CAP_REASON = "WhatsApp 131049: Meta limitó los mensajes de marketing a este usuario; no se reintenta en 24 h"

THROUGHPUT, PAIR_LIMIT, MARKETING_CAP, SPAM_LIMIT = 130429, 131056, 131049, 131048
_REMOTE = {ChannelKind.whatsapp: "WhatsApp", ChannelKind.telegram: "Telegram",
           ChannelKind.api: "el sistema del canal API"}
_NOT_SENT_TRANSPORT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@job
async def run_send(ctx: JobContext, *, send_id: int) -> None:
    await SendRun(ctx, send_id).run()


def _sleep(ctx: JobContext) -> Callable[[float], Awaitable[None]]:
    return ctx.extras.get("sleep") or asyncio.sleep


@dataclass
class _Claimed:
    id: int
    phone: str
    variables: dict[str, str]
    contact_id: int | None
    name: str = ""
    address: str | None = None  # text sends: the contact's id on the channel (Telegram chat, API contact)


# A send's message: a WhatsApp template, or the plain text of a Telegram or API send.
Content = Template | str


class SendRun:
    def __init__(self, ctx: JobContext, send_id: int) -> None:
        self.ctx = ctx
        self.send_id = send_id
        self.stop_reason: str | None = None  # set when the send must pause
        self.failures_in_row = 0
        self.max_failures = 50
        self.sent_rows: list[dict[str, Any]] = []  # successes not yet written (see ``_flush``)
        self.hold: datetime | None = None
        self.remote = _REMOTE[ChannelKind.whatsapp]  # who the calls go to, for the ledger's reasons
        self._next: asyncio.Task[_Plan | None] | None = None  # the next chunk, being prepared
        self._pool: _Pool | None = None  # WhatsApp: one pool for every chunk of the run
        self._starts: deque[datetime] | None = None  # the last ``rate`` call starts (see ``_paced``)
        self._began = ctx.clock.now()

    # --- the run --------------------------------------------------------------------------------
    async def run(self) -> None:
        """Chunk after chunk while the send goes on: the next chunk is prepared (checked and
        claimed) during the last second of the current one, so a long send never pauses between
        chunks; the run ends when a check says wait (window, limit, hold), or the send is done."""
        self._began = self.ctx.clock.now()
        plan = await self._prepare()
        if plan is None:
            return
        try:
            while plan is not None:
                send, channel, message, claimed = plan
                await self._send_all(send, channel, message, claimed)
                plan = await self._next_plan()
        except Exception:
            await self._drop_next()
            await self._wrap_up()  # what went out is recorded; rows left mid-call become uncertain
            raise
        finally:
            if self._pool is not None:
                await self._pool.aclose()
        await self._wrap_up()  # (a dying process skips this: the next run recovers its rows)

    def _prepare_next(self, in_flight: int) -> None:
        """Start preparing the next chunk beside the current one's last second (``in_flight``: the
        current chunk's size, counted against the daily limit as if all of it were sent)."""
        if self._next is None and self.stop_reason is None and self.hold is None and (
                self.ctx.clock.now() - self._began < RUN_LIMIT):
            self._next = asyncio.create_task(self._prepare(following=in_flight))

    async def _next_plan(self) -> "_Plan | None":
        task, self._next = self._next, None
        if task is None:
            return None
        plan = await asyncio.shield(task)
        if plan is not None and (self.stop_reason is not None or self.hold is not None):
            await asyncio.shield(self._release([c.id for c in plan[3]]))
            return None
        return plan

    async def _drop_next(self) -> None:
        task, self._next = self._next, None
        if task is not None and (plan := await asyncio.shield(task)) is not None:
            await asyncio.shield(self._release([c.id for c in plan[3]]))

    async def _again(self, session: AsyncSession, at: datetime) -> None:
        await enqueue(session, run_send, due_at=at, key=job_key(self.send_id), max_attempts=1000,
                      send_id=self.send_id)

    async def _prepare(self, *, following: int = 0) -> "_Plan | None":
        now = self.ctx.clock.now()
        async with self.ctx.database.session() as session:
            send = await session.scalar(select(OutboundSend).where(OutboundSend.id == self.send_id).with_for_update())
            if send is None or send.status not in (SendStatus.scheduled, SendStatus.sending):
                return None
            await self._recover(session, now)
            if send.start_at is not None and send.start_at > now:
                await self._again(session, send.start_at)
                return None
            if send.status == SendStatus.scheduled:
                send.status, send.started_at = SendStatus.sending, now
            if not following:  # a following chunk keeps this run's own count
                self.failures_in_row, self.max_failures = send.consecutive_failures, send.max_consecutive_failures
            if send.hold_until is not None and send.hold_until > now:
                await self._again(session, send.hold_until)
                return None
            channel = await session.get(Channel, send.channel_id)
            campaign = await session.get(Campaign, send.campaign_id)
            if channel is None or campaign is None or not channel.active:
                send.status, send.note = SendStatus.paused, "El canal del envío no está activo"
                return None
            if send.respect_schedule and (wait := await self._window_wait(session, campaign, now)) is not None:
                send.note = f"Fuera de la franja de envío; reanuda {wait.isoformat()}"
                await self._again(session, wait)
                return None
            room = MAX_CHUNK
            if (shared := await messaging_limit(session, channel)) is not None:
                room, reopens = await messaging_room(session, shared, now)
                room -= following
                if room <= 0:
                    send.note = f"Límite diario del canal alcanzado ({shared.limit}); sigue {reopens.isoformat()}"
                    await self._again(session, reopens)
                    return None
            send.note = None
            size = max(1, min(room, MAX_CHUNK, send.rate_per_second * CHUNK_SECONDS))
            claimed = await self._claim(session, size, now)
            if not claimed:
                await self._finish_or_wait(session, send, now)
                return None
            self.remote = _REMOTE.get(channel.kind, channel.kind.value)
            claimed = await self._skip_opted_out(session, claimed, channel.kind.value)
            if channel.kind != ChannelKind.whatsapp:
                return send, channel, send.text or "", await self._address(session, channel.id, claimed)
            template = await outbound_service.template_of(session, send, send.template_name or "",
                                                          send.template_language or "")
        return send, channel, template, claimed

    async def _recover(self, session: AsyncSession, now: datetime) -> None:
        """Rows of a run that died: a started call is uncertain (never retried), a claim is released."""
        stale = now - STALE
        await session.execute(update(OutboundRecipient).where(
            OutboundRecipient.send_id == self.send_id, OutboundRecipient.state == RecipientState.sending,
            OutboundRecipient.attempted_at < stale).values(state=RecipientState.uncertain))
        await session.execute(update(OutboundRecipient).where(
            OutboundRecipient.send_id == self.send_id, OutboundRecipient.state == RecipientState.claimed,
            OutboundRecipient.claimed_at < stale).values(state=RecipientState.pending, claimed_at=None))

    async def _window_wait(self, session: AsyncSession, campaign: Campaign, now: datetime) -> datetime | None:
        """When the sending window opens next, or None while it is open (routing's one "open now")."""
        if await open_now(session, campaign.schedule_id, now):
            return None
        schedule = await schedule_of(session, campaign.schedule_id)
        return (next_change_of(schedule, now) if schedule is not None else None) or now + timedelta(days=1)

    async def _claim(self, session: AsyncSession, size: int, now: datetime) -> list[_Claimed]:
        """Up to ``size`` due pending rows, oldest first, claimed in one statement (rows another
        worker holds are skipped on PostgreSQL)."""
        due = (select(OutboundRecipient.id)
               .where(OutboundRecipient.send_id == self.send_id, OutboundRecipient.state == RecipientState.pending,
                      or_(OutboundRecipient.due_at.is_(None), OutboundRecipient.due_at <= now))
               .order_by(OutboundRecipient.id).limit(size).with_for_update(skip_locked=True))
        rows = (await session.execute(
            update(OutboundRecipient).where(OutboundRecipient.id.in_(due.scalar_subquery()))
            .values(state=RecipientState.claimed, claimed_at=now)
            .returning(OutboundRecipient.id, OutboundRecipient.phone, OutboundRecipient.variables,
                       OutboundRecipient.contact_id, OutboundRecipient.name)
            .execution_options(synchronize_session=False))).all()
        return sorted((_Claimed(r.id, r.phone, dict(r.variables or {}), r.contact_id, r.name) for r in rows),
                      key=lambda c: c.id)

    async def _skip_opted_out(self, session: AsyncSession, claimed: list[_Claimed], kind: str) -> list[_Claimed]:
        """One query for the whole chunk: the claimed contacts opted out of this kind of channel."""
        contact_ids = {c.contact_id for c in claimed if c.contact_id is not None}
        opted_out = set((await session.scalars(contacts_bridge.opted_out_ids(kind, among=contact_ids))).all()) \
            if contact_ids else set()
        keep = [c for c in claimed if c.contact_id not in opted_out]
        skipped = [c.id for c in claimed if c.contact_id in opted_out]
        if skipped:
            await session.execute(update(OutboundRecipient).where(OutboundRecipient.id.in_(skipped))
                                  .values(state=RecipientState.skipped, skip_reason=SkipReason.opted_out))
        return keep

    async def _address(self, session: AsyncSession, channel_id: int, claimed: list[_Claimed]) -> list[_Claimed]:
        """Text sends: each contact's id on the channel, read as the chunk is claimed (one query); a
        contact with none (merged away, erased) is omitted like one who never wrote."""
        known = await reach.addresses_on(session, channel_id, [c.contact_id for c in claimed if c.contact_id])
        keep, skipped = [], []
        for item in claimed:
            item.address = known.get(item.contact_id) if item.contact_id is not None else None
            (keep if item.address is not None else skipped).append(item)
        if skipped:
            await session.execute(update(OutboundRecipient).where(OutboundRecipient.id.in_([c.id for c in skipped]))
                                  .values(state=RecipientState.skipped, skip_reason=SkipReason.no_conversation))
        return keep

    async def _finish_or_wait(self, session: AsyncSession, send: OutboundSend, now: datetime) -> None:
        """Nothing to claim now: complete, or come back when a retry is due or a live run's rows settle."""
        next_due = await session.scalar(select(func.min(OutboundRecipient.due_at)).where(
            OutboundRecipient.send_id == self.send_id, OutboundRecipient.state == RecipientState.pending))
        busy = await session.scalar(select(func.min(func.coalesce(OutboundRecipient.attempted_at,
                                                                  OutboundRecipient.claimed_at))).where(
            OutboundRecipient.send_id == self.send_id,
            OutboundRecipient.state.in_((RecipientState.claimed, RecipientState.sending))))
        waits = [as_utc(t) for t in (next_due,) if t is not None]
        if busy is not None:
            waits.append(as_utc(busy) + STALE)
        if waits:
            await self._again(session, max(now, min(waits)))
            return
        send.status, send.finished_at, send.note = SendStatus.completed, now, None

    # --- sending ---------------------------------------------------------------------------------
    async def _reserve(self, channel_id: int, count: int, rate: int) -> datetime:
        """The first of ``count`` slots, ``1/rate`` s apart, after every slot reserved before."""
        now = self.ctx.clock.now()
        async with self.ctx.database.session() as session:
            pacing = await session.scalar(select(ChannelPacing).where(ChannelPacing.channel_id == channel_id)
                                          .with_for_update())
            if pacing is None:
                pacing = ChannelPacing(channel_id=channel_id, next_slot_at=now)
                session.add(pacing)
            start = max(now, as_utc(pacing.next_slot_at))
            pacing.next_slot_at = start + _slots(count, rate)
        return start

    async def _send_all(self, send: OutboundSend, channel: Channel, message: Content,
                        claimed: list[_Claimed]) -> None:
        """Mark a group of rows (about 100 ms of slots) *sending* in one commit, then start each
        call at its slot and never sooner than ``1/rate`` after the previous one; successes are
        written in batches before the next group is marked."""
        rate = max(1, send.rate_per_second)
        concurrency = int(self.ctx.extras.get("outbound_concurrency", max(CONCURRENCY, rate // 2)))
        if isinstance(message, str):  # Telegram or API: the channel's own sender, over the job's HTTP client
            one = functools.partial(self._one_text, channel, message)
            await self._paced(claimed, channel, rate, concurrency, one)
            return
        if self._pool is None:
            self._pool = _Pool(self.ctx, channel, concurrency)
        client = self._pool.whatsapp
        await self._paced(claimed, channel, rate, concurrency, lambda item, semaphore, started: self._one(
            client, send, message, item, semaphore, started))

    async def _paced(self, claimed: list[_Claimed], channel: Channel, rate: int, concurrency: int,
                     call: Callable[[_Claimed, asyncio.Semaphore, datetime], Awaitable[None]]) -> None:
        """``call`` makes one recipient's call and releases the semaphore."""
        sleep = _sleep(self.ctx)
        group_size = max(1, rate // GROUPS_PER_SECOND)
        # Slots are reserved on the channel about a second at a time, not for the whole chunk: a run
        # that fell behind then starts its next second from now, never inside the slots another
        # send of the channel reserved meanwhile.
        block = group_size * GROUPS_PER_SECOND
        start, block_first = self.ctx.clock.now(), 0
        spacing = _slots(1, rate)
        catch_up = spacing / 2
        last_start: datetime | None = None
        # The start times of this run's last ``rate`` calls. A call starts at its slot, or when
        # late, as soon as the call ``rate`` calls back is a second old: no one-second window ever
        # holds more than ``rate`` starts, and a run that fell behind (the event loop's sleeps
        # overshoot by a millisecond or so at 1,000 msg/s) catches up instead of staying behind.
        # Kept across the run's chunks: a chunk that follows one still catching up must not
        # open a second's window of its own.
        if self._starts is None or self._starts.maxlen != rate:
            self._starts = deque(maxlen=rate)
        starts = self._starts
        semaphore = asyncio.Semaphore(concurrency)
        # Writes that need not hold up the calls run beside them: the successes' flush, and the next
        # second's reservation, asked for while this second's last group goes out (so it starts
        # where this one ends, unless another send of the channel reserved in between).
        flushing: asyncio.Task[None] | None = None
        reserving: asyncio.Task[datetime] | None = None
        marking: asyncio.Task[set[int]] | None = None
        try:
            async with asyncio.TaskGroup() as tasks:
                for first in range(0, len(claimed), group_size):
                    due_check = first and (first // group_size) % GROUPS_PER_SECOND == 0
                    if self.stop_reason is not None or self.hold is not None or (
                            due_check and await asyncio.shield(self._should_stop())):
                        if marking is not None:  # marked, but no call started: back to pending
                            await asyncio.shield(self._unmark(await asyncio.shield(marking)))
                            marking = None
                        await asyncio.shield(self._release([c.id for c in claimed[first:]]))
                        break
                    if flushing is None or flushing.done():
                        flushing = asyncio.create_task(self._flush())
                    if first % block == 0:
                        reserved = reserving or self._reserve(channel.id, min(block, len(claimed) - first), rate)
                        start, reserving = await asyncio.shield(reserved), None
                        block_first = first
                    following = first + group_size
                    if len(claimed) - first <= block:
                        self._prepare_next(len(claimed))  # this chunk's last second: the next one gets ready
                    if following % block == 0 and following < len(claimed):
                        reserving = asyncio.create_task(
                            self._reserve(channel.id, min(block, len(claimed) - following), rate))
                    group = claimed[first:first + group_size]
                    marked = await asyncio.shield(marking or self._mark_sending([c.id for c in group]))
                    # The next group's ledger entries are written while this group's calls go out.
                    upcoming = [c.id for c in claimed[following:following + group_size]]
                    marking = asyncio.create_task(self._mark_sending(upcoming)) if upcoming else None
                    for offset, item in enumerate(group):
                        if item.id not in marked:
                            continue  # cancelled or opted out meanwhile
                        slot = start + _slots(first + offset - block_first, rate)
                        if last_start is not None:  # late: catch up at twice the rate, not in one burst
                            slot = max(slot, last_start + catch_up)
                        # The pace may run up to EARLY ahead (the loop's timers tick in milliseconds: one
                        # sleep per call would cap a run near 700 msg/s) ...
                        if (wait := (slot - self.ctx.clock.now()).total_seconds()) > EARLY:
                            await sleep(wait)
                        # ... the one-second window never: the call ``rate`` calls back opened this one's second.
                        if len(starts) == rate and (wait := (starts[0] + ONE_SECOND - self.ctx.clock.now())
                                                    .total_seconds()) > 0:
                            await sleep(wait)
                        await semaphore.acquire()
                        last_start = self.ctx.clock.now()
                        starts.append(last_start)
                        tasks.create_task(call(item, semaphore, last_start))
        finally:
            for pending in (flushing, reserving):
                if pending is not None:
                    await asyncio.shield(pending)
            if marking is not None:  # marked, and the run ended before their calls: pending again
                await asyncio.shield(self._unmark(await asyncio.shield(marking)))
        await asyncio.shield(self._flush())
        if last_start is not None:
            await asyncio.shield(self._push_pacing(channel.id, last_start + spacing))

    async def _push_pacing(self, channel_id: int, after: datetime) -> None:
        """A run that fell behind its slots moves the channel's next slot past its last call."""
        async with self.ctx.database.session() as session:
            await session.execute(update(ChannelPacing).where(
                ChannelPacing.channel_id == channel_id, ChannelPacing.next_slot_at < after).values(next_slot_at=after))

    # The ledger's writes are shielded: a run cancelled mid-write (a worker stopping) finishes the
    # write instead of leaving a transaction open.
    async def _should_stop(self) -> bool:
        async with self.ctx.database.session() as session:
            status = await session.scalar(select(OutboundSend.status).where(OutboundSend.id == self.send_id))
        return status != SendStatus.sending

    async def _release(self, ids: list[int]) -> None:
        async with self.ctx.database.session() as session:
            await session.execute(update(OutboundRecipient).where(
                OutboundRecipient.id.in_(ids), OutboundRecipient.state == RecipientState.claimed)
                .values(state=RecipientState.pending, claimed_at=None))

    async def _mark_sending(self, ids: list[int]) -> set[int]:
        """The ledger entries, committed before the calls: from here on these rows are never sent again."""
        async with self.ctx.database.session() as session:
            result = await session.execute(update(OutboundRecipient).where(
                OutboundRecipient.id.in_(ids), OutboundRecipient.state == RecipientState.claimed)
                .values(state=RecipientState.sending, attempted_at=self.ctx.clock.now())
                .returning(OutboundRecipient.id))
            return set(result.scalars().all())

    async def _unmark(self, ids: set[int]) -> None:
        """Rows this run marked *sending* and then made no call for: pending again (safe: no call)."""
        if not ids:
            return
        async with self.ctx.database.session() as session:
            await session.execute(update(OutboundRecipient).where(
                OutboundRecipient.id.in_(ids), OutboundRecipient.state == RecipientState.sending)
                .values(state=RecipientState.pending, claimed_at=None, attempted_at=None))

    async def _flush(self) -> None:
        """Write the successes gathered since the last flush, in one statement."""
        if not self.sent_rows:
            return
        rows, self.sent_rows = self.sent_rows, []
        table = OutboundRecipient.__table__
        async with self.ctx.database.session() as session:
            await session.execute(table.update().where(
                table.c.id == bindparam("b_id"), table.c.state == RecipientState.sending.value).values(
                state=RecipientState.sent.value, wamid=bindparam("b_wamid"), sent_at=bindparam("b_sent"),
                text=bindparam("b_text"), attempted_at=bindparam("b_started")), rows)

    async def _one(self, client: WhatsAppClient, send: OutboundSend, template: Template, item: _Claimed,
                   semaphore: asyncio.Semaphore, started: datetime) -> None:
        try:
            try:
                components, text = render(template, send.mapping, item.variables)
            except TemplateParameterError as exc:
                await self._record(item.id, failed=(132000, f"Falta un valor de la plantilla: {exc}"), text=None)
                return
            recipient = Recipient(external_id=item.phone.lstrip("+"), phone=item.phone)
            try:
                wamid = await client.send_template(recipient, template.name, template.language, components)
            except GraphError as exc:
                after_call = self.ctx.extras.get("outbound_after_call")
                if after_call is not None:
                    after_call(item.id)
                await asyncio.shield(self._on_error(item.id, exc, text))
                return
            after_call = self.ctx.extras.get("outbound_after_call")
            if after_call is not None:
                after_call(item.id)  # tests inject a crash here: between the call and the commit
            self.sent_rows.append({"b_id": item.id, "b_wamid": wamid, "b_sent": self.ctx.clock.now(),
                                   "b_text": text, "b_started": started})
            self.failures_in_row = 0
        finally:
            semaphore.release()

    async def _on_error(self, recipient_id: int, error: GraphError, text: str) -> None:
        now = self.ctx.clock.now()
        code = error.code
        if error.http_status == 0:
            if isinstance(error.__cause__, _NOT_SENT_TRANSPORT):
                await self._retry(recipient_id, now)
            else:  # a timeout or a dropped answer: Meta may have sent it
                await self._record(recipient_id, uncertain=True, text=text)
            return
        if code == THROUGHPUT or (error.http_status == 429 and code != PAIR_LIMIT):
            self.hold = now + backoff(1, base_seconds=2, cap_seconds=60)
            await self._retry(recipient_id, now, count=False)
        elif code == PAIR_LIMIT:
            await self._retry(recipient_id, now + PAIR_RETRY, count=False)
        elif code == MARKETING_CAP:
            await self._record(recipient_id, failed=(code, MARKETING_CAP_REASON), text=None)
        elif code == SPAM_LIMIT:
            self.stop_reason = f"Pausado: Meta aplicó su límite por spam (131048): {error.title}"[:500]
            await self._retry(recipient_id, now, count=False)
        elif error.http_status >= 500:
            await self._retry(recipient_id, now + backoff(1))
        else:
            await self._record(recipient_id, failed=(code, error.reason), text=None)

    async def _one_text(self, channel: Channel, text: str, item: _Claimed, semaphore: asyncio.Semaphore,
                        started: datetime) -> None:
        """A Telegram or API send's call: the text with the recipient's values, through the channel's sender."""
        try:
            body = render_text(text, item.variables)
            if len(body) > (limit := limit_of(channel.kind)):  # never split: one message, or none
                reason = f"Con los valores de este destinatario el mensaje tiene {len(body)} caracteres; el canal " \
                         f"admite {limit}"
                await self._record(item.id, failed=(None, reason), text=None)
                return
            try:
                provider_id = await reach.deliver_text(
                    self.ctx, channel, address=item.address or "", name=item.name, text=body, at=started,
                    reference={"id": self.send_id, "recipient_id": item.id})
            except Exception as exc:  # noqa: BLE001  (sorted by what may have reached the customer)
                self._after_call(item.id)
                await asyncio.shield(self._on_text_error(item.id, exc, body))
                return
            self._after_call(item.id)  # tests inject a crash here: between the call and the commit
            self.sent_rows.append({"b_id": item.id, "b_wamid": provider_id, "b_sent": self.ctx.clock.now(),
                                   "b_text": body, "b_started": started})
            self.failures_in_row = 0
        finally:
            semaphore.release()

    def _after_call(self, recipient_id: int) -> None:
        after_call = self.ctx.extras.get("outbound_after_call")
        if after_call is not None:
            after_call(recipient_id)

    async def _on_text_error(self, recipient_id: int, error: Exception, text: str) -> None:
        """Nothing left us (a refused connection): pending again. No answer (a timeout, a dropped
        connection, anything unexpected): uncertain, never retried. The channel refused it for good:
        failed with its reason. It answered "later" (Telegram's 429, a 5xx): retried, and a flood
        limit holds the whole send for the time it asked."""
        now = self.ctx.clock.now()
        transport = cause_of(error, httpx.TransportError)
        if transport is not None:
            if isinstance(transport, _NOT_SENT_TRANSPORT):
                await self._retry(recipient_id, now)
            else:
                await self._record(recipient_id, uncertain=True, text=text)
        elif isinstance(error, PermanentSendError):
            await self._record(recipient_id, failed=(None, str(error) or "rechazado por el canal"), text=None)
        elif isinstance(error, RetryableSendError):
            if (wait := reach.retry_after(error)) is not None:
                self.hold = max(self.hold or now, now + timedelta(seconds=wait))
                await self._retry(recipient_id, now, count=False)
            else:
                await self._retry(recipient_id, now + backoff(1))
        else:
            log.exception("send %s: unexpected error on recipient %s", self.send_id, recipient_id, exc_info=error)
            await self._record(recipient_id, uncertain=True, text=text)

    async def _retry(self, recipient_id: int, due: datetime, *, count: bool = True) -> None:
        """Nothing reached the customer: the row may be sent later."""
        async with self.ctx.database.session() as session:
            row = await session.get(OutboundRecipient, recipient_id, with_for_update=True)
            if row is None or row.state != RecipientState.sending:
                return
            row.attempts += int(count)
            if row.attempts >= MAX_RETRIES:
                row.state, row.failed_at = RecipientState.failed, self.ctx.clock.now()
                row.error_title = f"No se pudo contactar a {self.remote} tras varios intentos"
                self._failure()
                return
            row.state, row.due_at, row.claimed_at, row.attempted_at = RecipientState.pending, due, None, None

    def _failure(self) -> None:
        self.failures_in_row += 1
        if self.failures_in_row >= self.max_failures and self.stop_reason is None:
            self.stop_reason = f"Pausado: {self.failures_in_row} envíos fallidos seguidos"

    async def _record(self, recipient_id: int, *, wamid: str | None = None, failed: tuple[int | None, str] | None = None,
                      uncertain: bool = False, text: str | None) -> None:
        now = self.ctx.clock.now()
        values: dict[str, Any]
        if wamid is not None:
            values = {"state": RecipientState.sent, "wamid": wamid, "sent_at": now, "text": text}
            self.failures_in_row = 0
        elif uncertain:
            values = {"state": RecipientState.uncertain, "text": text}
        else:
            assert failed is not None
            values = {"state": RecipientState.failed, "error_code": failed[0], "error_title": failed[1][:500],
                      "failed_at": now}
            self._failure()
        async with self.ctx.database.session() as session:
            await session.execute(update(OutboundRecipient).where(
                OutboundRecipient.id == recipient_id, OutboundRecipient.state == RecipientState.sending).values(**values))

    async def _wrap_up(self) -> None:
        """Persist the run's outcome and schedule the next run."""
        now = self.ctx.clock.now()
        async with self.ctx.database.session() as session:
            send = await session.scalar(select(OutboundSend).where(OutboundSend.id == self.send_id).with_for_update())
            if send is None:
                return
            send.consecutive_failures = self.failures_in_row
            if send.status != SendStatus.sending:
                return  # paused or cancelled meanwhile: whoever did it owns the job now
            if self.stop_reason is not None:
                send.status, send.note = SendStatus.paused, self.stop_reason
                return
            if self.hold is not None:
                send.hold_until = self.hold
                await self._again(session, self.hold)
                return
            await self._again(session, now)


_Plan = tuple[OutboundSend, Channel, Content, list[_Claimed]]


class _Pool:
    """A run's own connection pool for WhatsApp, as large as its calls in flight, kept for every
    chunk of the run (``kit.http``: about 0.4 ms of CPU per call)."""

    def __init__(self, ctx: JobContext, channel: Channel, concurrency: int) -> None:
        self._http = new_client(timeout=ctx.http.timeout, limit=concurrency)
        self.whatsapp = _client(ctx, channel, self._http)

    async def aclose(self) -> None:
        await self._http.aclose()


def _client(ctx: JobContext, channel: Channel, http: httpx.AsyncClient | None = None) -> WhatsAppClient:
    """The channel's client without the per-process limiter: the send paces itself across processes."""
    credentials, config = channel.credentials or {}, channel.settings or {}
    return WhatsAppClient(http or ctx.http, graph_url=ctx.settings.whatsapp_graph_url,
                          api_version=str(config.get("api_version") or DEFAULT_API_VERSION),
                          phone_number_id=str(config.get("phone_number_id", "")),
                          access_token=str(credentials.get("access_token", "")))


def _slots(count: int, rate: int) -> timedelta:
    """``count`` slots of ``1/rate`` s, rounded up to the microsecond (so ``rate`` of them never fit in
    less than a second)."""
    return timedelta(microseconds=math.ceil(count * 1_000_000 / rate))


async def send_test(session: AsyncSession, ctx: JobContext, send: OutboundSend, phone: str) -> str:
    """Enviar prueba: the send's message, with its first recipient's values, to one phone (outside
    the ledger: a test may be repeated). Returns Meta's wamid."""
    from atiende.kit.lists import to_e164
    from atiende.outbound.errors import SendInvalid, TestSendRefused

    try:
        e164 = to_e164(phone)
    except ValueError:
        raise SendInvalid("Write the phone in international format, e.g. +573001234567", field="phone") from None
    channel = await session.get(Channel, send.channel_id)
    assert channel is not None
    if channel.kind != ChannelKind.whatsapp:
        raise SendInvalid("Test messages go to a WhatsApp phone; a Telegram or API send reaches only contacts "
                          "who wrote to the channel", field="phone")
    if not send.template_name or not send.template_language:
        raise SendInvalid("Choose the template first", field="template_name")
    template = await outbound_service.template_of(session, send, send.template_name, send.template_language)
    first = await session.scalar(select(OutboundRecipient.variables).where(
        OutboundRecipient.send_id == send.id, OutboundRecipient.skip_reason.is_(None))
        .order_by(OutboundRecipient.row_number).limit(1))
    variables = dict(first or {c: c for c in send.columns})
    try:
        components, _ = render(template, send.mapping, variables)
    except TemplateParameterError as exc:
        raise SendInvalid(str(exc), field=f"mapping.{exc.field}") from exc
    try:
        return await _client(ctx, channel).send_template(Recipient(external_id=e164.lstrip("+"), phone=e164),
                                                          template.name, template.language, components)
    except GraphError as exc:
        raise TestSendRefused(exc.reason) from exc
