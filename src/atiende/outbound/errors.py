"""Refusals of the sends, each with a stable code (texts in i18n/*/errors.json)."""

from atiende.errors import Conflict, Invalid, NotFound


class SendNotFound(NotFound):
    code = "outbound.not_found"

    def __init__(self) -> None:
        super().__init__("Send not found", field="send_id")


class NoSendingChannel(Invalid):
    code = "outbound.no_whatsapp_channel"  # the code predates Telegram and API sends; kept stable

    def __init__(self) -> None:
        super().__init__("The campaign has no active WhatsApp, Telegram or API channel to send from",
                         field="campaign_id")


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


# --- the notification API (notifications.py) -------------------------------------------------------
class NotificationInvalid(Invalid):
    """A value of a notification that cannot be sent; ``field`` names it."""

    code = "notification.invalid"


class NotificationPhoneInvalid(Invalid):
    code = "notification.phone_invalid"

    def __init__(self) -> None:
        super().__init__("Write the phone in international format (+573001234567) or in the client's "
                         "national format", field="to")


class IdempotencyKeyReused(Invalid):
    code = "notification.idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__("This Idempotency-Key was already used for a different request; use a new key",
                         field="Idempotency-Key")


class ContactOptedOut(Conflict):
    code = "notification.opted_out"

    def __init__(self, kind: str) -> None:
        super().__init__(f"The contact opted out of {kind} messages", field="to")


class NoSuitableChannel(Invalid):
    code = "notification.no_channel"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, field="channel_id")


class TemplateNeedsWhatsApp(Invalid):
    code = "notification.template_needs_whatsapp"

    def __init__(self) -> None:
        super().__init__("Templates are sent on WhatsApp only; send plain text on this channel", field="template")


class WindowClosed(Invalid):
    code = "notification.window_closed"

    def __init__(self) -> None:
        super().__init__("The contact has not written in the last 24 hours: outside that window WhatsApp "
                         "takes only an approved template", field="text")


class ContactNeverWrote(Invalid):
    code = "notification.contact_never_wrote"

    def __init__(self) -> None:
        super().__init__("On this channel plain text reaches only contacts who already wrote to it", field="to")


class ConversationOnOtherChannel(Conflict):
    code = "notification.conversation_on_other_channel"

    def __init__(self) -> None:
        super().__init__("The contact has an open conversation of the campaign on another channel; "
                         "send on that channel or wait until it closes", field="channel_id")


class OutboundMessageNotFound(NotFound):
    code = "notification.message_not_found"

    def __init__(self) -> None:
        super().__init__("Message not found", field="message_id")
