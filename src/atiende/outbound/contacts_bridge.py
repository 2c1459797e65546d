"""The contacts directory as the outbound sends use it: one contact per phone and client, and
its consent per channel kind. A re-export, so the sends name exactly what they depend on."""

from atiende.contacts.consent import is_opted_out, opt_out, opted_out_ids
from atiende.contacts.service import ContactFilters, contact_service, upsert_by_phone

__all__ = ["ContactFilters", "contact_service", "is_opted_out", "opt_out", "opted_out_ids", "upsert_by_phone"]
