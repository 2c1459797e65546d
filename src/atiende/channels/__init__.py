"""Channels: where conversations come from (WhatsApp, web chat, Telegram, API)."""
