"""The 24-hour customer service window (pure rules, no I/O).

A business may send free-form messages to a WhatsApp user only within 24 hours of that user's
last message to the business. Outside it only approved templates go out (Meta answers 131047
otherwise); an answered template does not reopen the window, the customer's reply does.
"""

from datetime import datetime, timedelta

WINDOW = timedelta(hours=24)


def window_closes_at(last_customer_message_at: datetime | None) -> datetime | None:
    return None if last_customer_message_at is None else last_customer_message_at + WINDOW


def window_is_open(last_customer_message_at: datetime | None, now: datetime) -> bool:
    """True while ``now`` is less than 24 h after the customer's last message (never, if none)."""
    closes = window_closes_at(last_customer_message_at)
    return closes is not None and now < closes
