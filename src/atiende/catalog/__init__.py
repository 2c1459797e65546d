"""The setup catalog a campaign is built from: schedules, typifications, fields, funnels,
survey bots. Channels live in ``atiende.channels``."""
