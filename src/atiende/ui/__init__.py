"""NiceGUI pages: the admin console, the agent workspace and the supervisor views.

Pages call the domain services directly (never the REST API), one session per action, with the
Caller rebuilt from the token kept in the browser's user storage.
"""

from fastapi import FastAPI

_mounted: list[bool] = []


def mount_ui(app: FastAPI) -> None:
    """Mounts the NiceGUI pages on ``app``. NiceGUI is process-global: one app per process."""
    from nicegui import ui

    from atiende import i18n
    from atiende.ui import runtime
    from atiende.ui.context import stored_locale

    settings = runtime.bind(app).settings
    i18n.set_default_locale(settings.default_locale)
    i18n.set_locale_source(stored_locale)
    import atiende.ui.console  # noqa: F401  (registers the console pages)
    import atiende.ui.pages  # noqa: F401  (registers login and landing pages)
    import atiende.ui.supervisor  # noqa: F401  (registers /supervisor)
    import atiende.ui.workspace  # noqa: F401  (registers /workspace)

    if _mounted:
        return
    ui.run_with(app, storage_secret=settings.secret_key, title="Atiende", favicon="💬",
                language="es" if settings.default_locale == "es" else "en-US",
                show_welcome_message=False, reconnect_timeout=10.0)
    _mounted.append(True)
