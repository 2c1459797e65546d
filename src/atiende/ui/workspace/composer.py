"""The typing area under a conversation: text (Enter sends, Shift+Enter breaks the line), quick
replies by shortcut ("/saludo"), and — only where the campaign allows them — an emoji picker,
attachments and voice notes recorded in the browser. Files are checked and stored like the
channels' media (``channels.media.MediaStore``); the engine decides whether the message may go."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import events, ui

from atiende.channels.media import MediaRejected, MediaStore
from atiende.channels.protocol import MAX_ATTACHMENTS, Attachment, AttachmentKind
from atiende.conversations.attachments import store_upload
from atiende.conversations.workview import WorkView
from atiende.i18n import t
from atiende.ui.components import testid
from atiende.ui.runtime import runtime

EMOJIS = ("😀 😁 😂 😊 😉 😍 😘 🤗 🤔 😅 😇 🙂 🙃 😌 😎 🥳 😢 😭 😡 😱 🙏 👍 👎 👌 👏 🙌 💪 🤝 👋 ✌️ "
          "❤️ 💙 💚 ✨ ⭐ 🔥 🎉 🎁 ✅ ❌ ⚠️ 📞 📧 📄 📎 💳 💰 🕒 📅 🚚 🏠").split()
MAX_VOICE_SECONDS = 120
BODY_MARGIN = 64 * 1024  # multipart overhead under the app's request-size limit

Send = Callable[[str, list[Attachment]], Awaitable[bool]]


@dataclass(frozen=True)
class CannedItem:
    shortcut: str
    title: str
    text: str


def fill_placeholders(text: str, *, contact: str, agent: str) -> str:
    """``{contacto}`` and ``{agente}`` in a quick reply become the names."""
    return text.replace("{contacto}", contact).replace("{agente}", agent)


class Composer:
    def __init__(self, work: WorkView, canned: list[CannedItem], *, agent_name: str, on_send: Send,
                 draft: str = "", reload_canned: "Callable[[], Awaitable[list[CannedItem]]] | None" = None) -> None:
        self.work = work
        self.canned = canned
        self.reload_canned = reload_canned
        self.in_shortcut = False
        self.agent_name = agent_name
        self.on_send = on_send
        self.staged: list[Attachment] = []
        self.shown: list[CannedItem] = []  # quick replies suggested now
        self.recording = False
        settings = runtime().settings
        self.store = MediaStore(settings)
        self.max_bytes = max(1024, min(settings.media_max_bytes, settings.max_body_bytes - BODY_MARGIN))
        self._build()
        self.text.set_value(draft)

    # --- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        with ui.column().classes("w-full gap-1 q-pa-sm bg-white border-t border-gray-200") \
                .props('data-testid="composer"'):
            self.suggestions = ui.column().classes("w-full gap-0")
            self.staged_row = ui.row().classes("w-full gap-1 items-center")
            self.recording_row = ui.row().classes("w-full items-center gap-2")
            self.recording_row.set_visibility(False)
            with self.recording_row:
                ui.icon("fiber_manual_record", color="negative").classes("animate-pulse")
                ui.label(t("workspace.recording")).classes("text-body2")
                testid(ui.button(t("workspace.voice_stop"), icon="stop", on_click=lambda: self._stop(False))
                       .props("flat dense no-caps color=primary"), "voice-stop")
                ui.button(t("common.cancel"), on_click=lambda: self._stop(True)).props("flat dense no-caps")
            with ui.row().classes("w-full items-end no-wrap gap-1"):
                self._tools()
                self.text = testid(ui.textarea(placeholder=t("workspace.type_here"), on_change=self._typed)
                                   .props('outlined dense autogrow rows=1 maxlength=4096 '
                                          f'aria-label="{t("workspace.type_here")}"')
                                   .classes("flex-grow").style("max-height: 9rem; overflow-y: auto"), "message-input")
                self.text.on("keydown.enter.exact.prevent", self._enter)
                self.send_button = testid(ui.button(icon="send", on_click=self.send)
                                          .props(f'round unelevated color=primary aria-label="{t("workspace.send")}"'),
                                          "send")
                self.send_button.tooltip(t("workspace.send_hint"))

    def _tools(self) -> None:
        if self.work.permissions.emojis:
            with testid(ui.button(icon="mood").props(f'flat round dense aria-label="{t("workspace.emoji")}"'),
                        "emoji-button"):
                with ui.menu().props('data-testid="emoji-menu"') as menu, \
                        ui.grid(columns=8).classes("q-pa-sm gap-1"):
                    for emoji in EMOJIS:
                        ui.button(emoji, on_click=lambda e=emoji, m=menu: self._pick_emoji(e, m)) \
                            .props(f'flat dense aria-label="{emoji}"').classes("text-h6")
        if self.work.can_attach:
            self.uploader = self._hidden_uploader(voice=False)
            testid(ui.button(icon="attach_file", on_click=lambda: ui.run_javascript(
                f"atiende.pickFiles({self.uploader.id})"))
                   .props(f'flat round dense aria-label="{t("workspace.attach")}"'), "attach-button") \
                .tooltip(t("workspace.attach"))
        if self.work.can_record_voice:
            self.voice_uploader = self._hidden_uploader(voice=True)
            self.mic = testid(ui.button(icon="mic", on_click=self._record)
                              .props(f'flat round dense aria-label="{t("workspace.voice")}"'), "voice-button")
            self.mic.tooltip(t("workspace.voice"))

    def _hidden_uploader(self, *, voice: bool) -> ui.upload:
        async def received(event: events.UploadEventArguments) -> None:
            await self._stage(event, voice=voice)

        uploader = ui.upload(on_upload=received, auto_upload=True, max_file_size=self.max_bytes,
                             on_rejected=lambda: ui.notify(t("workspace.file_too_large"), type="warning"))
        return uploader.classes("hidden").props('aria-hidden="true"')

    # --- text -----------------------------------------------------------------------------------
    def _pick_emoji(self, emoji: str, menu: ui.menu) -> None:
        self.text.set_value((self.text.value or "") + emoji)
        menu.close()
        self.focus()

    async def _typed(self) -> None:
        slash = (self.text.value or "").startswith("/")
        if slash and not self.in_shortcut and self.reload_canned is not None:
            self.canned = await self.reload_canned()  # a "/" starts: read them afresh
        self.in_shortcut = slash
        found = self.matching()
        if found == self.shown:
            return  # most keystrokes: nothing to redraw
        self.shown = found
        self.suggestions.clear()
        for item in found:
            with self.suggestions:
                with ui.item(on_click=lambda i=item: self.use(i)).props('dense clickable data-testid="canned"') \
                        .classes("w-full rounded-borders bg-grey-2"):
                    with ui.item_section():
                        ui.item_label(f"/{item.shortcut} · {item.title}").classes("text-weight-medium")
                        ui.item_label(item.text).props("caption lines=1")

    def matching(self) -> list[CannedItem]:
        value = self.text.value or ""
        if not value.startswith("/") or any(ch.isspace() for ch in value):
            return []
        typed = value[1:].lower()
        return [c for c in self.canned if c.shortcut.startswith(typed)][:8]

    def use(self, item: CannedItem) -> None:
        self.text.set_value(fill_placeholders(item.text, contact=self.work.conversation.contact.name or "",
                                              agent=self.agent_name))
        self.suggestions.clear()
        self.shown = []
        self.text.run_method("focus")

    async def _enter(self) -> None:
        found = self.matching()
        if found:
            self.use(found[0])
            return
        await self.send()

    async def send(self) -> None:
        text = (self.text.value or "").strip()
        if not text and not self.staged:
            return
        self.send_button.props("loading")
        try:
            sent = await self.on_send(text, list(self.staged))
        finally:
            self.send_button.props(remove="loading")
        if sent:
            self.text.set_value("")
            self.staged.clear()
            self._show_staged()

    def focus(self) -> None:
        self.text.run_method("focus")

    # --- attachments and voice notes -------------------------------------------------------------
    async def _stage(self, event: events.UploadEventArguments, *, voice: bool) -> None:
        upload = event.file
        if voice and self.recording:  # the recorder stopped by itself at its time limit
            self._recorded()
        if len(self.staged) >= MAX_ATTACHMENTS:
            ui.notify(t("workspace.too_many_files", max=MAX_ATTACHMENTS), type="warning")
            return
        data = await upload.read()
        try:
            attachment = store_upload(self.store, filename=upload.name or "", content_type=upload.content_type,
                                      data=data, voice=voice)
        except MediaRejected as exc:
            ui.notify(t("workspace.file_refused", reason=str(exc)), type="negative")
            return
        self.staged.append(attachment)
        self._show_staged()

    def _show_staged(self) -> None:
        self.staged_row.clear()
        with self.staged_row:
            for index, item in enumerate(self.staged):
                icon = {"image": "image", "voice": "mic", "audio": "audiotrack", "video": "movie"}.get(item.kind,
                                                                                                      "description")
                label = t("workspace.voice_note") if item.kind == AttachmentKind.voice else item.name
                testid(ui.chip(label, icon=icon, removable=True, on_value_change=lambda _e, i=index: self._unstage(i))
                       .props("dense outline color=primary"), "staged-attachment")
                if item.kind == AttachmentKind.voice:
                    ui.audio(self.store.grant(item.url, self.work.conversation.id, runtime().clock.now())).style("height: 2rem; max-width: 220px")

    def _unstage(self, index: int) -> None:
        if 0 <= index < len(self.staged):
            self.staged.pop(index)
        self._show_staged()

    async def _record(self) -> None:
        if self.recording:
            self._stop(False)
            return
        state = await ui.run_javascript(f"atiende.startRecording({self.voice_uploader.id}, {MAX_VOICE_SECONDS})",
                                        timeout=30)
        if state != "recording":
            ui.notify(t(f"workspace.voice_{state}"), type="warning")
            return
        self.recording = True
        self.recording_row.set_visibility(True)
        self.mic.props("color=negative")

    def _stop(self, cancel: bool) -> None:
        ui.run_javascript(f"atiende.stopRecording({'true' if cancel else 'false'})")
        self._recorded()

    def _recorded(self) -> None:
        self.recording = False
        self.recording_row.set_visibility(False)
        self.mic.props(remove="color")
