"""Business hours (tab *Horario*): what happens to conversations that wait outside the schedule.

- A message that arrives while the schedule is closed, to a conversation no agent is serving (new
  or queued): **Cerrar** closes it at once (reason ``out_of_hours``); **Encolar** keeps it queued
  until the schedule opens. Either way the out-of-hours message goes out only when *¿Enviar
  mensaje?* is on, and at most once per conversation.
- A conversation an agent is already serving is left alone: the agent finishes it.
- While conversations wait, dispatch's keyed job per campaign (``dispatch.hours_tick``,
  ``hours:campaign:<id>``) wakes at each change of the schedule: on opening it assigns them in
  arrival order; on closing, with *¿Aplicar a las conversaciones encoladas?*, it gives the waiting
  ones the action below (closed, or kept and told). It re-enqueues itself at the next change while
  the queue is not empty.
- Every instant comes from the injected clock; "is it open now" is
  ``catalog.schedule_snapshots.open_now`` (zone, holidays, bands across midnight and DST are
  handled by ``catalog.schedule_rules``).
"""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.campaigns.models import Campaign, OutOfHoursAction
from atiende.conversations.ending import close_unserved
from atiende.conversations.models import CloseReason, Conversation, SenderKind
from atiende.conversations.outbound import post_message
from atiende.jobs import JobContext


async def out_of_hours(session: AsyncSession, ctx: JobContext, campaign: Campaign, conversation: Conversation,
                       now: datetime) -> None:
    """Apply the campaign's out-of-hours action to a conversation that waits while closed."""
    if (campaign.send_out_of_hours_message and campaign.out_of_hours_message.strip()
            and not conversation.out_of_hours_notified):
        conversation.out_of_hours_notified = True
        await post_message(session, ctx, conversation, sender=SenderKind.system,
                           text=campaign.out_of_hours_message, now=now)
    if campaign.out_of_hours_action == OutOfHoursAction.close:
        await close_unserved(session, ctx, campaign, conversation, now, CloseReason.out_of_hours)
