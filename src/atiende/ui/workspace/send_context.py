"""The card beside a conversation that answers a send (envío): which send, the message as the
customer got it, and that recipient's variables ("Monto: $ 1.871.000 · Vence: 15 dic 2026")."""

from nicegui import ui
from sqlalchemy.ext.asyncio import AsyncSession

from atiende.conversations.models import Conversation
from atiende.i18n import t
from atiende.outbound.hooks import send_context
from atiende.outbound.models import OutboundRecipient, OutboundSend

SendContext = tuple[OutboundSend, OutboundRecipient]


async def load(session: AsyncSession, conversation: Conversation) -> SendContext | None:
    return await send_context(session, conversation)


def send_card(found: SendContext) -> None:
    send, recipient = found
    with ui.card().props('flat bordered data-testid="send-context"').classes("w-full q-pa-sm gap-1"):
        ui.label(t("outbound.panel.title", name=send.name)).classes("text-overline text-grey-7")
        for key, value in recipient.variables.items():
            if value:
                with ui.row().classes("gap-1 no-wrap"):
                    ui.label(f"{key.replace('_', ' ').capitalize()}:").classes("text-caption text-grey-7")
                    ui.label(value).classes("text-body2").props(f'data-testid="send-var-{key}"')
        if recipient.text:
            ui.label(recipient.text).classes("text-caption text-grey-8 bg-green-1 q-pa-xs rounded-borders") \
                .style("white-space: pre-wrap")
