"""Secrets never reach the logs through a URL: the widget's and the agents' WebSockets carry their
token in the query string (``/ws?token=…``, browsers cannot set headers on a WebSocket), and a
channel's webhook check carries ``hub.verify_token``. The filter rewrites the value of every
sensitive query parameter to ``[redacted]`` in uvicorn's access and WebSocket log lines."""

import logging
import re

SENSITIVE = re.compile(r"(?i)([?&](?:[\w.\-]*token|[\w.\-]*secret|[\w.\-]*key|signature|password|code)=)[^&#\s\"']*")
REDACTED = "[redacted]"
UVICORN_LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """``/ws?token=abc&after=3`` → ``/ws?token=[redacted]&after=3``."""
    return SENSITIVE.sub(lambda m: m.group(1) + REDACTED, text) if "=" in text else text


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def install() -> None:
    """Adds the filter to uvicorn's loggers (after uvicorn configured logging); safe to call twice."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
