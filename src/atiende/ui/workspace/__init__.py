"""Conversaciones: the agent workspace (``/workspace``)."""

from atiende.ui.workspace import page  # noqa: F401  (registers the page)
