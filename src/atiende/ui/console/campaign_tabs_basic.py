"""Tabs 1–4 of the campaign modal: Detalle de la campaña, Canales, Horario, Tipificaciones."""

from typing import TYPE_CHECKING, Any

from nicegui import ui

from atiende.campaigns.models import OutOfHoursAction
from atiende.campaigns.service import TYPIFICATION_SLOTS
from atiende.catalog.models import Typification
from atiende.i18n import t
from atiende.ui.components import help_text, testid
from atiende.ui.numbers import whole_number
from atiende.ui.console.channels import kind_label
from atiende.ui.schedule_text import summary

if TYPE_CHECKING:
    from atiende.ui.console.campaign_modal import CampaignModal


def choice_select(m: "CampaignModal", field_path: str, options: dict[Any, str], value: Any, label: str, tid: str,
                  on_change: Any, *, clearable: bool = False, multiple: bool = False,
                  empty: tuple[str, str, str] | None = None) -> ui.select:
    """A select bound to ``field_path``; with no options, says what to create first and links to it."""
    if multiple:
        value = [v for v in value or [] if v in options]
    elif value not in options:
        value = None
    select = ui.select(options, value=value, label=label,
                       multiple=multiple, with_input=len(options) > 8, clearable=clearable,
                       on_change=on_change).props("outlined" + (" use-chips" if multiple else "")).classes("w-full")
    m.bind(field_path, testid(select, tid))
    if not options and empty:
        message, action, href = empty
        with ui.row().classes("items-center gap-1 text-caption").props(f'data-testid="{tid}-empty"'):
            ui.label(message).classes("text-grey-8")
            ui.link(action, href, new_tab=True).classes("text-primary")
    return select


def _set(m: "CampaignModal", field_path: str, attribute: str, value: Any) -> None:
    setattr(m.draft, attribute, value)
    m.changed(field_path)


# --- 1. Detalle de la campaña -------------------------------------------------------------------

def detail_tab(m: "CampaignModal") -> None:
    assert m.choices is not None
    draft = m.draft

    async def client_changed(e: Any) -> None:
        if e.value is not None and e.value != draft.client_id:
            await m.change_client(int(e.value))

    client = choice_select(m, "client_id", m.admin_clients, draft.client_id, t("campaign.client"), "campaign-client",
                           client_changed)
    if m.campaign_id is not None:
        client.props("readonly")
        help_text(t("campaign.client_fixed"))
    projects = {p.id: p.name for p in m.choices.projects}
    choice_select(m, "project_id", projects, draft.project_id, t("campaign.project"), "campaign-project",
                  lambda e: _set(m, "project_id", "project_id", e.value),
                  empty=(t("campaign.no_projects"), t("projects.create_first"), "/console/projects"))
    name = m.bind("name", testid(ui.input(t("campaign.name"), value=draft.name).props("outlined maxlength=120")
                                 .classes("w-full"), "campaign-name"))
    name.on_value_change(lambda e: _set(m, "name", "name", e.value or ""))
    testid(ui.switch(t("campaign.active"), value=draft.active,
                     on_change=lambda e: _set(m, "active", "active", e.value)), "campaign-active")
    help_text(t("campaign.active_help"))

    ui.separator()
    bots = {b.id: b.name for b in m.choices.survey_bots}
    survey = testid(ui.switch(t("campaign.survey_enabled"), value=draft.survey_enabled), "campaign-survey")
    bot = choice_select(m, "survey.survey_bot_id", bots, draft.survey_bot_id, t("campaign.survey_bot"),
                        "campaign-survey-bot", lambda e: _set(m, "survey.survey_bot_id", "survey_bot_id", e.value),
                        empty=(t("campaign.no_survey_bots"), t("survey_bots.create_first"), "/console/survey-bots"))
    bot.set_enabled(draft.survey_enabled)

    def survey_changed(e: Any) -> None:
        bot.set_enabled(bool(e.value))
        _set(m, "survey.enabled", "survey_enabled", bool(e.value))
        m.changed("survey.survey_bot_id")

    survey.on_value_change(survey_changed)
    attention_bot_settings(m)
    funnels = {f.id: f.name for f in m.choices.funnels}
    choice_select(m, "funnel_id", funnels, draft.funnel_id, t("campaign.funnel"), "campaign-funnel",
                  lambda e: _set(m, "funnel_id", "funnel_id", e.value), clearable=True,
                  empty=(t("campaign.no_funnels"), t("funnels.create_first"), "/console/funnels"))
    help_text(t("campaign.funnel_help"))


def attention_bot_settings(m: "CampaignModal") -> None:
    """The attention bot that answers first, and when it hands off to the agents."""
    assert m.choices is not None
    settings = m.draft.bot

    def put(key: str, value: Any) -> None:
        settings[key] = value
        m.changed(f"bot.{key}")

    ui.separator()
    bots = {b.id: b.name for b in m.choices.attention_bots}
    choice_select(m, "bot.attention_bot_id", bots, settings["attention_bot_id"], t("campaign.attention_bot"),
                  "campaign-attention-bot", lambda e: (put("attention_bot_id", e.value), refresh()), clearable=True,
                  empty=(t("campaign.no_attention_bots"), t("attention_bots.create_first"), "/console/attention-bots"))
    help_text(t("campaign.attention_bot_help"))
    handoff = ui.column().classes("w-full gap-2 q-pl-md")
    with handoff:
        m.bind("bot.handoff_keywords", testid(
            ui.input_chips(t("campaign.bot_keywords"), value=list(settings["handoff_keywords"]),
                           on_change=lambda e: put("handoff_keywords", list(e.value or [])))
            .props("outlined").classes("w-full"), "campaign-bot-keywords"))
        m.bind("bot.misunderstandings_before_handoff", testid(
            whole_number(t("campaign.bot_misunderstandings"), value=settings["misunderstandings_before_handoff"],
                         low=1, high=10, on_change=lambda e: put("misunderstandings_before_handoff", e.value))
            .props("outlined").classes("w-64"), "campaign-bot-misunderstandings"))
        testid(ui.switch(t("campaign.bot_out_of_hours"), value=settings["answers_out_of_hours"],
                         on_change=lambda e: put("answers_out_of_hours", bool(e.value))), "campaign-bot-out-of-hours")
        help_text(t("campaign.bot_out_of_hours_help"))
        typifications = {ty.id: ty.name for ty in m.choices.typifications}
        choice_select(m, "bot.resolved_typification_id", typifications, settings["resolved_typification_id"],
                      t("campaign.bot_resolved_typification"), "campaign-bot-typification",
                      lambda e: put("resolved_typification_id", e.value), clearable=True)

    def refresh() -> None:
        handoff.set_visibility(settings["attention_bot_id"] is not None)

    refresh()


# --- 2. Canales -------------------------------------------------------------------------------

def channel_label(m: "CampaignModal", channel: Any) -> str:
    text = f"{kind_label(channel.kind)} · {channel.name}"
    campaign = getattr(channel, "active_campaign", None)
    if campaign is not None and campaign.id != m.campaign_id:
        text += f" — {t('channels.in_use_by', campaign=campaign.name)}"
    return text


def channels_tab(m: "CampaignModal") -> None:
    assert m.choices is not None
    draft = m.draft
    later = testid(ui.switch(t("campaign.configure_later"), value=draft.configure_later), "campaign-configure-later")
    help_text(t("campaign.configure_later_help"))
    options = {c.id: channel_label(m, c) for c in m.choices.channels}
    channels = choice_select(m, "channels.channel_ids", options, list(draft.channel_ids), t("campaign.channels"),
                             "campaign-channels",
                             lambda e: _set(m, "channels.channel_ids", "channel_ids", list(e.value or [])),
                             multiple=True,
                             empty=(t("campaign.no_channels"), t("channels.create_first"), "/console/channels"))
    channels.set_enabled(not draft.configure_later)
    help_text(t("campaign.channels_help"))

    def later_changed(e: Any) -> None:
        channels.set_enabled(not e.value)  # switched on: the channels are set aside (not sent)
        _set(m, "channels.channel_ids", "configure_later", bool(e.value))

    later.on_value_change(later_changed)


# --- 3. Horario -------------------------------------------------------------------------------

def schedule_tab(m: "CampaignModal") -> None:
    assert m.choices is not None
    draft = m.draft
    schedules = {s.id: s for s in m.choices.schedules}

    def bands_text(schedule_id: Any) -> str:
        schedule = schedules.get(schedule_id)
        return summary(schedule.bands, schedule.timezone) if schedule else ""

    def schedule_changed(e: Any) -> None:
        bands.set_text(bands_text(e.value))
        _set(m, "schedule.schedule_id", "schedule_id", e.value)

    choice_select(m, "schedule.schedule_id", {s.id: s.name for s in schedules.values()}, draft.schedule_id,
                  t("campaign.schedule"), "campaign-schedule", schedule_changed,
                  empty=(t("schedules.empty"), t("schedules.create_first"), "/console/schedules"))
    with ui.row().classes("items-center gap-2"):
        ui.icon("schedule", color="primary")
        bands = testid(ui.label(bands_text(draft.schedule_id)).classes("text-body2"), "schedule-bands")

    ui.label(t("campaign.action")).classes("text-subtitle2 q-mt-sm").props('id="campaign-action-label"')
    actions = {a: t(f"campaign.action.{a.value}") for a in OutOfHoursAction}
    testid(ui.radio(actions, value=draft.out_of_hours_action,
                    on_change=lambda e: _set(m, "schedule.out_of_hours_action", "out_of_hours_action", e.value))
           .props('inline aria-labelledby="campaign-action-label"'), "campaign-action")
    for option in OutOfHoursAction:
        help_text(f"{t(f'campaign.action.{option.value}')}: {t(f'campaign.action_help.{option.value}')}")
    action_error = ui.label().classes("text-negative text-caption").props('role="alert"')
    action_error.set_visibility(False)
    m.bind("schedule.out_of_hours_action", action_error)

    testid(ui.switch(t("campaign.apply_to_queued"), value=draft.apply_to_queued,
                     on_change=lambda e: _set(m, "schedule.apply_to_queued", "apply_to_queued", e.value)),
           "campaign-apply-to-queued")
    help_text(t("campaign.apply_to_queued_help"))
    message = m.bind("schedule.out_of_hours_message",
                     testid(ui.textarea(t("campaign.out_of_hours_message"), value=draft.out_of_hours_message)
                            .props("outlined autogrow maxlength=4096").classes("w-full"), "campaign-message"))
    message.on_value_change(lambda e: _set(m, "schedule.out_of_hours_message", "out_of_hours_message",
                                           e.value or ""))
    testid(ui.switch(t("campaign.send_message"), value=draft.send_out_of_hours_message,
                     on_change=lambda e: (_set(m, "schedule.send_out_of_hours_message", "send_out_of_hours_message",
                                               e.value), m.changed("schedule.out_of_hours_message"))),
           "campaign-send-message")


# --- 4. Tipificaciones ------------------------------------------------------------------------

def typification_paths(items: list[Typification]) -> dict[int, str]:
    """Each typification with its ancestors: "Gestión › Transferida"."""
    by_id = {i.id: i for i in items}
    paths: dict[int, str] = {}
    for item in items:
        names, node, seen = [], item, set()
        while node is not None and node.id not in seen:
            seen.add(node.id)
            names.append(node.name)
            node = by_id.get(node.parent_id) if node.parent_id else None
        paths[item.id] = " › ".join(reversed(names))
    return dict(sorted(paths.items(), key=lambda kv: kv[1].lower()))


def typifications_tab(m: "CampaignModal") -> None:
    assert m.choices is not None
    options = typification_paths(m.choices.typifications)
    help_text(t("campaign.typifications_help"))
    for slot in TYPIFICATION_SLOTS:
        def slot_changed(e: Any, slot: str = slot) -> None:
            m.draft.typifications[slot] = e.value
            m.changed(f"typifications.{slot}")

        choice_select(m, f"typifications.{slot}", options, m.draft.typifications.get(slot),
                      t(f"campaign.typification.{slot}"), f"campaign-typification-{slot.replace('_', '-')}",
                      slot_changed, empty=(t("typifications.empty"), t("typifications.create_first"),
                                           "/console/typifications") if slot == TYPIFICATION_SLOTS[0] else None)
    timeout = m.bind("inactivity_timeout_minutes",
                     testid(whole_number(t("campaign.inactivity_timeout"), value=m.draft.inactivity_timeout_minutes,
                                         low=1, high=10080).props("outlined suffix=min")
                            .classes("w-64"), "campaign-inactivity-timeout"))
    timeout.on_value_change(lambda e: _set(m, "inactivity_timeout_minutes", "inactivity_timeout_minutes", e.value))
    help_text(t("campaign.inactivity_timeout_help"))
