"""The conversation engine: contacts, conversations, messages, queue, assignment, hours, closing, survey."""
