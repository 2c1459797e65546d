"""Sends of a campaign (envíos): an audience, a WhatsApp template mapped to its columns, a throttled
at-most-once engine, statuses and replies."""
