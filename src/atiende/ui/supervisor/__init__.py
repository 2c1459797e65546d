"""Supervisión: the live board of queues and agents (``/supervisor``)."""
