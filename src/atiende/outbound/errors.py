"""Refusals of the sends, each with a stable code (texts in i18n/*/errors.json)."""

from atiende.errors import Conflict, Invalid, NotFound


class SendNotFound(NotFound):
    code = "outbound.not_found"

    def __init__(self) -> None:
        super().__init__("Send not found", field="send_id")


class NoWhatsAppChannel(Invalid):
    code = "outbound.no_whatsapp_channel"

    def __init__(self) -> None:
        super().__init__("The campaign has no active WhatsApp channel to send from", field="campaign_id")


class SendInvalid(Invalid):
    """A value of the send's wizard that cannot be used; ``field`` names it."""

    code = "outbound.invalid"


class TemplateUnusable(Invalid):
    code = "outbound.template_unusable"


class SendStateConflict(Conflict):
    code = "outbound.wrong_state"

    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"A send that is {status} cannot {action}", field="status")


class TestSendRefused(Invalid):
    code = "outbound.test_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(f"WhatsApp refused the test message: {reason}", field="phone", status_code=502)
