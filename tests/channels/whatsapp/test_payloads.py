"""Reading Meta's webhooks: every entry, change, message and status; every message type."""

from datetime import UTC, datetime

import pytest

from atiende.channels.protocol import AttachmentKind
from atiende.channels.whatsapp.payloads import MalformedPayload, parse_webhook
from atiende.channels.whatsapp.signature import sign, signature_is_valid, token_matches
from atiende.conversations.models import DeliveryStatus
from tests.channels.fakes.data import load, raw
from tests.channels.fakes.meta import PHONE_NUMBER_ID


def only_message(name: str):  # type: ignore[no-untyped-def]
    batch = parse_webhook(load(name))
    assert len(batch.messages) == 1 and not batch.statuses, batch.ignored
    return batch.messages[0]


def test_the_signature_is_an_hmac_of_the_exact_bytes_received() -> None:
    body = raw("whatsapp_text.json")
    header = sign(body, "app-secret")
    assert signature_is_valid(body, header, "app-secret")
    assert not signature_is_valid(body + b" ", header, "app-secret")  # one byte more
    assert not signature_is_valid(body, header, "other-secret")
    assert not signature_is_valid(body, header.removeprefix("sha256="), "app-secret")
    assert not signature_is_valid(body, None, "app-secret")
    assert not signature_is_valid(body, "sha256=", "app-secret")
    assert not signature_is_valid(body, "sha256=zz" + header[9:], "app-secret")
    assert not signature_is_valid(body, header, "")
    assert signature_is_valid(body, header.upper().replace("SHA256=", "sha256="), "app-secret")


def test_tokens_compare_exactly() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd") and not token_matches("", "") and not token_matches(None, "a")


def test_a_text_message_gives_the_contact_their_phone_and_the_sent_time() -> None:
    parsed = only_message("whatsapp_text.json")
    assert parsed.phone_number_id == PHONE_NUMBER_ID
    assert parsed.message.external_id == "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
    assert parsed.message.text == "Does it come in another color?"
    contact = parsed.message.contact
    assert (contact.external_id, contact.name, contact.phone) == ("16505551234", "Sheena Nelson", "+16505551234")
    assert parsed.message.sent_at == datetime.fromtimestamp(1749416383, UTC)
    assert parsed.media is None and parsed.reply_to is None


def test_a_user_known_only_by_business_scoped_id_is_still_a_contact_without_phone() -> None:
    parsed = only_message("whatsapp_bsuid.json")
    contact = parsed.message.contact
    assert contact.external_id == "US.13491208655302741918"
    assert contact.phone is None
    assert contact.name == "Pablo Morales"


@pytest.mark.parametrize(("name", "kind", "media_id", "mime", "caption"), [
    ("whatsapp_image.json", AttachmentKind.image, "2754859441498128", "image/jpeg", "This is a caption"),
    ("whatsapp_voice.json", AttachmentKind.voice, "1003383421387256", "audio/ogg; codecs=opus", ""),
    ("whatsapp_document.json", AttachmentKind.document, "1073390867801733", "application/pdf", "Factura de marzo"),
    ("whatsapp_video.json", AttachmentKind.video, "1070113287816939", "video/mp4", "Así llegó el producto"),
    ("whatsapp_sticker.json", AttachmentKind.sticker, "1243692113530519", "image/webp", ""),
])
def test_media_messages_name_the_media_to_download(name: str, kind: AttachmentKind, media_id: str, mime: str,
                                                   caption: str) -> None:
    parsed = only_message(name)
    assert parsed.media is not None
    assert (parsed.media.kind, parsed.media.media_id, parsed.media.mime_type) == (kind, media_id, mime)
    assert parsed.message.text == caption


def test_a_document_keeps_its_file_name() -> None:
    media = only_message("whatsapp_document.json").media
    assert media is not None and media.filename == "factura-marzo.pdf"


def test_a_location_becomes_a_map_link_with_its_name() -> None:
    parsed = only_message("whatsapp_location.json")
    assert parsed.message.text == "Philz Coffee — 1 Hacker Way, Menlo Park, CA 94025"
    (attachment,) = parsed.message.attachments
    assert attachment.kind == AttachmentKind.location
    assert attachment.url == "https://www.google.com/maps?q=37.483307,-122.148981"


def test_shared_contacts_are_listed_with_phones_and_emails() -> None:
    text = only_message("whatsapp_contacts.json").message.text
    assert text == "👤 Barbara Johnson · +1 (940) 555-1234 · bjohnson@example.com"


@pytest.mark.parametrize(("name", "text"), [
    ("whatsapp_button_reply.json", "Cancel"),
    ("whatsapp_list_reply.json", "Priority Mail Express\nNext Day to 2 Days"),
    ("whatsapp_template_button.json", "Unsubscribe"),
])
def test_interactive_and_button_replies_keep_what_the_user_tapped_and_the_message_they_answer(
        name: str, text: str) -> None:
    parsed = only_message(name)
    assert parsed.message.text == text
    assert parsed.reply_to is not None and parsed.reply_to.startswith("wamid.")


def test_a_reply_names_the_quoted_message() -> None:
    parsed = only_message("whatsapp_context_reply.json")
    assert parsed.reply_to == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJBNjYxRjE4QkFGRDRCMDk4MjUA"


def test_a_reaction_points_at_the_message_reacted_to() -> None:
    parsed = only_message("whatsapp_reaction.json")
    assert parsed.message.text == "👍 (reacción)"
    assert parsed.reply_to == "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3NjRBNjVGQTc5N0NCMjY4MUIA"


def test_an_unsupported_message_is_kept_with_a_note_so_nothing_is_lost() -> None:
    parsed = only_message("whatsapp_unsupported.json")
    assert parsed.message.text == "[mensaje de tipo unsupported no soportado]"


def test_every_entry_change_and_message_of_a_batch_is_read() -> None:
    batch = parse_webhook(load("whatsapp_batch.json"))
    assert [m.message.external_id for m in batch.messages] == ["wamid.BATCH.1", "wamid.BATCH.2", "wamid.BATCH.3"]
    assert [m.message.contact.name for m in batch.messages] == ["Sheena Nelson", "Kerry Fisher", "Sheena Nelson"]
    assert [(s.update.external_id, s.update.status) for s in batch.statuses] == [
        ("wamid.OUT9", DeliveryStatus.delivered)]
    assert batch.phone_number_ids == {PHONE_NUMBER_ID}


def test_statuses_map_to_delivery_states_and_failures_carry_code_and_title() -> None:
    batch = parse_webhook(load("whatsapp_statuses.json"))
    assert [(s.update.external_id, s.update.status) for s in batch.statuses] == [
        ("wamid.OUT1", DeliveryStatus.sent), ("wamid.OUT1", DeliveryStatus.read),
        ("wamid.OUT1", DeliveryStatus.delivered), ("wamid.OUT2", DeliveryStatus.failed),
        ("wamid.OUT3", DeliveryStatus.read)]  # a played voice note was read
    failed = batch.statuses[3]
    assert failed.error_code == 131047
    assert failed.update.reason is not None and "plantilla" in failed.update.reason and "131047" in failed.update.reason
    assert batch.statuses[0].update.at == datetime.fromtimestamp(1750857384, UTC)


@pytest.mark.parametrize("body", [None, [], "x", {"object": "page", "entry": []}, {"object": "whatsapp_business_account"},
                                  {"object": "whatsapp_business_account", "entry": "x"}])
def test_a_body_that_is_not_a_whatsapp_webhook_is_malformed(body: object) -> None:
    with pytest.raises(MalformedPayload):
        parse_webhook(body)


def test_broken_items_are_skipped_and_the_rest_still_counts() -> None:
    body = load("whatsapp_batch.json")
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"] += [{"type": "text"}, "junk", {"id": "wamid.X", "type": "text", "text": {"body": "?"},
                                                     "from": ""}]
    value["statuses"] = [{"id": "wamid.Y", "status": "deleted"}, 7]
    body["entry"].append({"id": "1"})
    body["entry"].append({"id": "2", "changes": [{"field": "account_update", "value": {}}, {"value": None}]})
    batch = parse_webhook(body)
    assert [m.message.external_id for m in batch.messages] == ["wamid.BATCH.1", "wamid.BATCH.2", "wamid.BATCH.3"]
    assert len(batch.ignored) == 8
