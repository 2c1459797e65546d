"""The sidebar ("panel de control"): which entries exist and which roles may use each.

The same table guards the URLs, so an entry that is not shown also answers 403.
"""

from dataclasses import dataclass

from atiende.auth.models import Role

ADMIN = (Role.admin,)
MANAGERS = (Role.admin, Role.supervisor)
EVERYONE = (Role.admin, Role.supervisor, Role.agent)


@dataclass(frozen=True)
class NavEntry:
    key: str  # i18n key suffix and data-testid
    path: str
    icon: str
    roles: tuple[Role, ...]


@dataclass(frozen=True)
class NavSection:
    key: str
    entries: tuple[NavEntry, ...]


SECTIONS: tuple[NavSection, ...] = (
    NavSection("work", (
        NavEntry("workspace", "/workspace", "forum", EVERYONE),
        NavEntry("supervisor", "/supervisor", "insights", MANAGERS),
        NavEntry("reports", "/reports", "query_stats", MANAGERS),
        NavEntry("contacts", "/contacts", "contacts", EVERYONE),
    )),
    NavSection("config", (
        NavEntry("campaigns", "/console/campaigns", "campaign", ADMIN),
        NavEntry("channels", "/console/channels", "hub", ADMIN),
        NavEntry("schedules", "/console/schedules", "schedule", ADMIN),
        NavEntry("typifications", "/console/typifications", "account_tree", ADMIN),
        NavEntry("fields", "/console/fields", "dynamic_form", ADMIN),
        NavEntry("funnels", "/console/funnels", "filter_alt", ADMIN),
        NavEntry("survey_bots", "/console/survey-bots", "poll", ADMIN),
        NavEntry("attention_bots", "/console/attention-bots", "smart_toy", ADMIN),
        NavEntry("projects", "/console/projects", "folder", ADMIN),
        NavEntry("users", "/console/users", "badge", ADMIN),
        NavEntry("integrations", "/console/integrations", "webhook", ADMIN),
    )),
    NavSection("admin", (
        NavEntry("admin_campaigns", "/console/admin/campaigns", "list_alt", MANAGERS),
        NavEntry("sends", "/console/sends", "send", MANAGERS),
    )),
)

ENTRIES: dict[str, NavEntry] = {e.key: e for s in SECTIONS for e in s.entries}


def visible_sections(role: Role | None) -> list[tuple[NavSection, list[NavEntry]]]:
    """Sections with the entries ``role`` may use; empty sections are left out."""
    result = []
    for section in SECTIONS:
        entries = [e for e in section.entries if role is not None and role in e.roles]
        if entries:
            result.append((section, entries))
    return result


def home_path(role: Role | None) -> str:
    if role == Role.admin:
        return ENTRIES["campaigns"].path
    if role == Role.supervisor:
        return ENTRIES["supervisor"].path
    if role == Role.agent:
        return ENTRIES["workspace"].path
    return "/no-client"
