"""Configuración and Administración screens, one module per screen."""

from atiende.ui.console import (  # noqa: F401  (each module registers its page)
    admin_campaigns, attention_bots, campaigns, channels, contacts, fields, funnels, integrations, projects,
    schedules, sends, survey_bots, typifications, users,
)
