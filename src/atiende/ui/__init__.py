"""NiceGUI pages: the admin console, the agent workspace and the supervisor views."""

from fastapi import FastAPI


def mount_ui(app: FastAPI) -> None:
    """Mounts the NiceGUI pages on ``app`` (filled in by the console issue)."""
