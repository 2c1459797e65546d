"""Outgoing webhooks: conversation events delivered to the client's own systems.

Importing the package registers the listener that writes deliveries at commit (``capture``), so
every process that loads the models (web, worker, CLI) records them.
"""

from atiende.integrations import capture as capture  # noqa: F401  (registers the commit listener)
