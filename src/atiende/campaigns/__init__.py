"""The campaign: the operating unit conversations belong to, with its seven tabs of settings."""
