"""Telegram bots: the webhook secret, update parsing and the Bot API client."""
