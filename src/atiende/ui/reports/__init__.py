"""Reportes: the page, the conversations behind its numbers, and its downloads."""

from atiende.ui.reports import conversations, downloads, page  # noqa: F401  (register the pages)
