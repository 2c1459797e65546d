"""The contacts directory: one contact per person of a client, consent, import, merge."""
