"""NiceGUI pages: the admin console, the agent workspace and the supervisor views.

Pages call the domain services directly (never the REST API), one session per action, with the
Caller rebuilt from the token kept in the browser's user storage.
"""

from pathlib import Path

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

_mounted: list[bool] = []
FAVICON = Path(__file__).parent / "static" / "favicon.svg"  # drawn, not an emoji (no emoji font needed)


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
    import atiende.ui.invitations  # noqa: F401  (registers /invitations)
    import atiende.ui.pages  # noqa: F401  (registers login and landing pages)
    import atiende.ui.reports  # noqa: F401  (registers /reports)
    import atiende.ui.supervisor  # noqa: F401  (registers /supervisor)
    import atiende.ui.workspace  # noqa: F401  (registers /workspace)

    # Compression outside the security headers, which write a nonce into each page's scripts.
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    if _mounted:
        return
    secure_cookie = settings.public_url.startswith("https://")  # the session cookie only over https
    ui.run_with(app, storage_secret=settings.secret_key, title="Atiende", favicon=FAVICON,
                language="es" if settings.default_locale == "es" else "en-US",
                show_welcome_message=False, reconnect_timeout=10.0, gzip_middleware_factory=None,
                session_middleware_kwargs={"https_only": secure_cookie, "same_site": "lax"})
    _mounted.append(True)
