"""Clients (tenants), their plans and their projects."""
