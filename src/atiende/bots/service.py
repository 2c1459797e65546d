"""Attention bot rules: the bot (welcome, messages, menu) and its knowledge base.

The menu is checked against the bot's entries on every write (an option must point to an entry of
this bot); a phrasing is unique within a bot (the same words cannot lead to two answers); every
change raises the bot's ``revision``, which tells the flow's cached matchers to rebuild.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.audit.models import AuditAction
from atiende.audit.service import audit_service
from atiende.auth.caller import Caller
from atiende.bots import unanswered
from atiende.bots.flow import knowledge
from atiende.bots.matcher import normalise
from atiende.bots.models import AttentionBot, KnowledgeEntry
from atiende.bots.replies import decide, fresh_state
from atiende.bots.schemas import (
    MAX_ENTRIES, AttentionBotCreate, AttentionBotOut, AttentionBotUpdate, EntryCreate, EntryOut, EntryUpdate,
    LearnIn, MenuKind, MenuOption, TryOut,
)
from atiende.campaigns.models import Campaign
from atiende.catalog.usage import refuse_if_campaigns_use
from atiende.clock import Clock
from atiende.errors import Conflict, Invalid, NotFound
from atiende.kit.crud import ScopedCrudService
from atiende.kit.pagination import PageParams, paginate
from atiende.kit.search import contains


class DuplicatePhrasing(Conflict):
    code = "bot.duplicate_phrasing"

    def __init__(self, phrasing: str, entry_id: int | None, field: str) -> None:
        where = f"entry {entry_id}" if entry_id else "another phrasing of this entry"
        super().__init__(f'"{phrasing[:80]}" is already a phrasing of {where}', field=field,
                         extra={"entry_id": entry_id})


def _menu_entry_ids(menu: Iterable[MenuOption]) -> Iterable[tuple[int, str]]:
    """(entry id, field) of every answer option, any depth."""
    def walk(options: Iterable[MenuOption], prefix: str, depth: int) -> Iterable[tuple[int, str]]:
        if depth > 3:
            raise Invalid("Menus nest at most three levels deep", field=prefix)
        for index, option in enumerate(options):
            field = f"{prefix}.{index}"
            if option.kind == MenuKind.answer and option.entry_id is not None:
                yield option.entry_id, f"{field}.entry_id"
            yield from walk(option.options, f"{field}.options", depth + 1)
    return list(walk(menu, "menu", 1))


class AttentionBotService(ScopedCrudService[AttentionBot, AttentionBotCreate, AttentionBotUpdate]):
    model = AttentionBot
    out_schema = AttentionBotOut
    entity = "attention_bot"

    async def build(self, session: AsyncSession, data: AttentionBotCreate) -> AttentionBot:
        await self.ensure_unique(session, data.client_id, "name", data.name)
        for entry_id, field in _menu_entry_ids(data.menu):
            raise Invalid(f"Entry {entry_id} is not in this bot's knowledge base (a new bot has none yet)",
                          field=field)
        return AttentionBot(client_id=data.client_id, name=data.name, welcome_message=data.welcome_message,
                            fallback_message=data.fallback_message, handoff_message=data.handoff_message,
                            menu=[o.model_dump(mode="json") for o in data.menu], active=data.active, revision=1)

    async def apply(self, session: AsyncSession, obj: AttentionBot, data: AttentionBotUpdate) -> None:
        sent = data.model_fields_set
        if "name" in sent and data.name is not None:
            await self.ensure_unique(session, obj.client_id, "name", data.name, exclude_id=obj.id)
            obj.name = data.name
        for key in ("welcome_message", "fallback_message", "handoff_message", "active"):
            if key in sent and getattr(data, key) is not None:
                setattr(obj, key, getattr(data, key))
        if "menu" in sent and data.menu is not None:
            wanted = _menu_entry_ids(data.menu)
            have = set((await session.scalars(select(KnowledgeEntry.id).where(
                KnowledgeEntry.bot_id == obj.id, KnowledgeEntry.id.in_([i for i, _ in wanted])))).all())
            for entry_id, field in wanted:
                if entry_id not in have:
                    raise Invalid(f"Entry {entry_id} is not in this bot's knowledge base", field=field)
            obj.menu = [o.model_dump(mode="json") for o in data.menu]
        obj.revision += 1

    async def check_delete(self, session: AsyncSession, obj: AttentionBot) -> None:
        await refuse_if_campaigns_use(session, f'The attention bot "{obj.name}"', Campaign.attention_bot_id == obj.id)

    # --- knowledge base ------------------------------------------------------------------
    async def entries(self, session: AsyncSession, bot: AttentionBot, *, page: PageParams, q: str | None = None,
                      category: str | None = None) -> tuple[list[KnowledgeEntry], int]:
        stmt = select(KnowledgeEntry).where(KnowledgeEntry.bot_id == bot.id)
        if q:
            stmt = stmt.where(contains(KnowledgeEntry.question, q))
        if category is not None:
            stmt = stmt.where(KnowledgeEntry.category == category)
        return await paginate(session, stmt.order_by(KnowledgeEntry.id), page)

    async def all_entries(self, session: AsyncSession, bot: AttentionBot) -> list[KnowledgeEntry]:
        return list((await session.scalars(select(KnowledgeEntry).where(KnowledgeEntry.bot_id == bot.id)
                                           .order_by(KnowledgeEntry.id))).all())

    async def entry(self, session: AsyncSession, bot: AttentionBot, entry_id: int) -> KnowledgeEntry:
        entry = await session.scalar(select(KnowledgeEntry).where(KnowledgeEntry.id == entry_id,
                                                                  KnowledgeEntry.bot_id == bot.id))
        if entry is None:
            raise NotFound("Entry not found", field="entry_id")
        return entry

    async def add_entry(self, session: AsyncSession, caller: Caller, bot: AttentionBot, data: EntryCreate, *,
                        clock: Clock) -> KnowledgeEntry:
        caller.require_admin(bot.client_id)
        count = await session.scalar(select(func.count()).where(KnowledgeEntry.bot_id == bot.id)) or 0
        if count >= MAX_ENTRIES:
            raise Conflict(f"A bot holds at most {MAX_ENTRIES} entries", field="question")
        await self._refuse_duplicates(session, bot, None, data.question, data.phrasings)
        entry = KnowledgeEntry(bot_id=bot.id, **data.model_dump())
        session.add(entry)
        bot.revision += 1
        await session.flush()
        await self._audit(session, caller, bot, entry, AuditAction.create, clock, after=self._entry_snapshot(entry))
        return entry

    async def update_entry(self, session: AsyncSession, caller: Caller, bot: AttentionBot, entry: KnowledgeEntry,
                           data: EntryUpdate, *, clock: Clock) -> KnowledgeEntry:
        caller.require_admin(bot.client_id)
        before = self._entry_snapshot(entry)
        changes = {key: getattr(data, key) for key in data.model_fields_set}
        for key in ("question", "phrasings", "answer", "buttons", "category", "active"):
            if key in changes and changes[key] is None:
                raise Invalid("Send a value, or leave the key out", field=key)
        question = changes.get("question", entry.question)
        phrasings = changes.get("phrasings", entry.phrasings)
        await self._refuse_duplicates(session, bot, entry.id, question, phrasings)
        for key, value in changes.items():
            setattr(entry, key, value)
        bot.revision += 1
        await session.flush()
        await self._audit(session, caller, bot, entry, AuditAction.update, clock, before=before,
                          after=self._entry_snapshot(entry))
        return entry

    async def delete_entry(self, session: AsyncSession, caller: Caller, bot: AttentionBot, entry: KnowledgeEntry, *,
                           clock: Clock) -> None:
        caller.require_admin(bot.client_id)
        for entry_id, field in _menu_entry_ids([MenuOption.model_validate(o) for o in bot.menu]):
            if entry_id == entry.id:
                raise Conflict("The bot's menu shows this entry; change the menu first", field=field)
        before = self._entry_snapshot(entry)
        await session.delete(entry)
        bot.revision += 1
        await session.flush()
        await self._audit(session, caller, bot, entry, AuditAction.delete, clock, before=before)

    async def import_entries(self, session: AsyncSession, caller: Caller, bot: AttentionBot,
                             rows: Sequence[EntryCreate], *, clock: Clock) -> tuple[int, int]:
        """Entries matched by question (ignoring case and accents) are replaced; the rest added.
        All or nothing: the first bad row refuses the file."""
        caller.require_admin(bot.client_id)
        existing = {normalise(e.question) or e.question.casefold(): e for e in await self.all_entries(session, bot)}
        created = updated = 0
        seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            for text in (row.question, *row.phrasings):
                key = normalise(text) or text.casefold()
                if key in seen and seen[key] != index:
                    raise DuplicatePhrasing(text, None, f"rows.{index + 1}.phrasings")
                seen[key] = index
        for index, row in enumerate(rows):
            entry = existing.get(normalise(row.question) or row.question.casefold())
            try:
                if entry is None:
                    await self.add_entry(session, caller, bot, row, clock=clock)
                    created += 1
                else:
                    await self.update_entry(session, caller, bot, entry, EntryUpdate(**row.model_dump()),
                                            clock=clock)
                    updated += 1
            except (Invalid, Conflict) as exc:
                kind = Conflict if isinstance(exc, Conflict) else Invalid
                raise kind(f"Row {index + 1}: {exc.message}",
                           field=f"rows.{index + 1}.{exc.field or 'question'}") from exc
        return created, updated

    async def try_text(self, session: AsyncSession, bot: AttentionBot, text: str, *,
                       keywords: Sequence[str] | None = None, max_misses: int = 2) -> TryOut:
        """What the live bot would answer to ``text`` as a fresh question, and why (the candidates
        it weighed). Inactive entries are not matched, as live."""
        matcher, entries = await knowledge(session, bot)
        reply = decide(bot, matcher, entries, fresh_state(), text, max_misses=max_misses,
                       **({"keywords": keywords} if keywords is not None else {}))
        match = reply.match
        candidates = list(match.candidates) if match else []
        return TryOut.model_validate({
            "intent": match.intent.value if match else "choice", "decision": reply.decision.value,
            "reply": reply.text, "best": candidates[0] if candidates else None,
            "runner_up": candidates[1] if len(candidates) > 1 else None, "candidates": candidates})

    async def learn(self, session: AsyncSession, caller: Caller, bot: AttentionBot, question_id: int, body: LearnIn,
                    *, clock: Clock) -> KnowledgeEntry:
        """Add the customer's wording to an entry, or make it a new one; the question leaves the list.
        The knowledge base's own rules apply (a phrasing belongs to one entry: 409 naming the field)."""
        caller.require_admin(bot.client_id)
        question = await unanswered.find(session, bot, question_id)
        if body.entry_id is not None:
            entry = await self.entry(session, bot, body.entry_id)
            entry = await self.update_entry(
                session, caller, bot, entry, EntryUpdate(phrasings=[*entry.phrasings, question.text[:300]]), clock=clock)
        else:
            assert body.answer is not None
            entry = await self.add_entry(
                session, caller, bot, EntryCreate(question=body.question or question.text[:300], answer=body.answer),
                clock=clock)
        await session.delete(question)
        return entry

    # --- helpers -------------------------------------------------------------------------
    async def _refuse_duplicates(self, session: AsyncSession, bot: AttentionBot, entry_id: int | None, question: str,
                                 phrasings: Sequence[str]) -> None:
        mine: dict[str, str] = {}
        for index, text in enumerate([question, *phrasings]):
            key = normalise(text) or text.casefold()
            field = "question" if index == 0 else f"phrasings.{index - 1}"
            if key in mine:
                raise DuplicatePhrasing(text, None, field)
            mine[key] = field
        others = await session.execute(select(KnowledgeEntry.id, KnowledgeEntry.question, KnowledgeEntry.phrasings)
                                       .where(KnowledgeEntry.bot_id == bot.id))
        for other_id, other_question, other_phrasings in others.all():
            if other_id == entry_id:
                continue
            for text in [other_question, *(other_phrasings or [])]:
                key = normalise(text) or text.casefold()
                if key in mine:
                    raise DuplicatePhrasing(text, other_id, mine[key])

    def _entry_snapshot(self, entry: KnowledgeEntry) -> dict[str, Any]:
        return EntryOut.model_validate(entry).model_dump(mode="json")

    async def _audit(self, session: AsyncSession, caller: Caller, bot: AttentionBot, entry: KnowledgeEntry,
                     action: AuditAction, clock: Clock, **snapshots: Any) -> None:
        await audit_service.record(session, caller=caller, action=action, entity_type="knowledge_entry",
                                   entity_id=entry.id, client_id=bot.client_id, at=clock.now(), **snapshots)


attention_bot_service = AttentionBotService()
