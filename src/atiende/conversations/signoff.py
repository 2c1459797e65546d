"""Logging out means Desconectado: the person goes offline in every client they work for, which
hands their conversations back where the campaign says so (see ``staffing.change_presence``).
The console's logout (``ui.context.log_out``) calls this before revoking the token."""

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.auth.caller import Caller
from atiende.auth.models import Presence
from atiende.conversations.staffing import change_presence
from atiende.jobs import JobContext


async def sign_off(session: AsyncSession, ctx: JobContext, caller: Caller) -> None:
    now = ctx.clock.now()
    for client_id in sorted(caller.memberships):
        membership = caller.memberships[client_id]
        if membership.presence != Presence.offline:
            await change_presence(session, ctx, membership, Presence.offline, now)
