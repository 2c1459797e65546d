"""WhatsApp Business Cloud API (Meta): webhook verification and parsing, the Graph API client,
the 24-hour customer-service window, templates and the per-number rate limit."""
