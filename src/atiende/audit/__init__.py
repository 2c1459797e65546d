"""Who changed which configuration, when, from what to what."""
