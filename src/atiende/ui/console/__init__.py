"""Configuración and Administración screens, one module per screen."""

from atiende.ui.console import (  # noqa: F401  (each module registers its page)
    admin_campaigns, attention_bots, campaigns, channels, fields, funnels, integrations, projects, schedules,
    survey_bots, typifications, users,
)
