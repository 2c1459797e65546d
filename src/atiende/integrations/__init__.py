"""Outgoing webhooks: conversation events delivered to the client's own systems."""
