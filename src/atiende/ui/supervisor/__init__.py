"""Supervisión: the live board of queues and agents (``/supervisor``)."""

from atiende.ui.supervisor import page  # noqa: F401  (registers the page)
