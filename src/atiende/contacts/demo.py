"""The demo client's directory: a few known customers with documents and emails, two in an
agent's cartera (exclusive agent), one opted out of WhatsApp; phones read as Colombian."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from atiende.channels.models import ChannelKind
from atiende.contacts.models import ConsentChange, ConsentSource, ContactConsent, ContactSettings
from atiende.conversations.models import Contact

PEOPLE = [  # name, phone, email, document, city, index of the exclusive agent (None: nobody)
    ("Valentina Ríos", "+573001110001", "valentina.rios@example.com", "1020304050", "Bogotá", 0),
    ("Julián Castro", "+573001110002", "julian.castro@example.com", "79856412", "Medellín", 0),
    ("Camila Herrera", "+573001110003", "camila.herrera@example.com", "52896314", "Cali", 1),
    ("Andrés Morales", "+573001110004", None, "1098765432", "Barranquilla", None),
]


async def seed_directory(session: AsyncSession, client_id: int, agent_ids: list[int], now: datetime) -> None:
    session.add(ContactSettings(client_id=client_id))
    contacts = []
    for name, phone, email, document, city, agent in PEOPLE:
        exclusive = agent_ids[agent] if agent is not None and agent < len(agent_ids) else None
        contacts.append(Contact(client_id=client_id, name=name, phone=phone, email=email, document_id=document,
                                attributes={"ciudad": city}, exclusive_agent_id=exclusive, created_at=now))
    session.add_all(contacts)
    await session.flush()
    opted = contacts[-1]
    session.add_all([ContactConsent(contact_id=opted.id, channel_kind=ChannelKind.whatsapp, opted_out=True,
                                    changed_at=now),
                     ConsentChange(client_id=client_id, contact_id=opted.id, channel_kind=ChannelKind.whatsapp,
                                   opted_out=True, source=ConsentSource.keyword, at=now)])
