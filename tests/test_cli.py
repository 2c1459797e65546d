"""The ``atiende`` command as an operator uses it: real subprocesses, real exit codes."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from atiende.demo import DEMO_PASSWORD


def run_cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "atiende.cli", *args], input=stdin, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=120)


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return {"ATIENDE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}


def test_create_admin_creates_client_and_admin_who_can_log_in(sqlite_env: dict[str, str]) -> None:
    result = run_cli("create-admin", "--email", "Jefa@Banco.com", "--client", "Banco Andino", "--password-stdin",
                     env=sqlite_env, stdin="una-clave-larga\n")
    assert result.returncode == 0, result.stderr
    assert "admin jefa@banco.com created for client 'Banco Andino'" in result.stdout
    again = run_cli("create-admin", "--email", "jefa@banco.com", "--client", "Banco Andino", "--password-stdin",
                    env=sqlite_env, stdin="otra-clave-larga\n")
    assert again.returncode == 0 and "updated" in again.stdout


def test_cli_errors_are_one_line_on_stderr_and_a_nonzero_exit(sqlite_env: dict[str, str]) -> None:
    cases = [
        (["create-admin", "--email", "not-an-email", "--client", "X", "--password-stdin"], "clave-larga-123\n"),
        (["create-admin", "--email", "a@b.com", "--client", "X", "--password-stdin"], "short\n"),
        (["create-admin", "--email", "a@b.com", "--password-stdin"], "clave-larga-123\n"),
    ]
    for args, stdin in cases:
        result = run_cli(*args, env=sqlite_env, stdin=stdin)
        assert result.returncode != 0, args
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stderr.startswith("error: ")
    broken = run_cli("migrate", env={"ATIENDE_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"})
    assert broken.returncode == 1
    assert len(broken.stderr.strip().splitlines()) == 1 and "cannot migrate" in broken.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_serves_the_demo_client_and_prints_the_logins(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("ATIENDE_DATABASE_URL", "ATIENDE_SECRET_KEY")}
    process = subprocess.Popen([sys.executable, "-m", "atiende.cli", "demo", "--port", str(port),
                                "--database", str(tmp_path / "demo.db")], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("demo did not start")
        token = httpx.post(f"{base}/api/v1/auth/token",
                           data={"username": "admin@demo.atiende.app", "password": DEMO_PASSWORD}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        projects = httpx.get(f"{base}/api/v1/projects", headers=headers).json()
        assert sorted(p["name"] for p in projects["items"]) == ["Atención al cliente", "Cobranza"]
        me = httpx.get(f"{base}/api/v1/me", headers=headers).json()
        assert me["memberships"][0]["client_name"] == "Demo S.A."
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in output
    assert "admin@demo.atiende.app / atiende-demo" in output
    assert "agente3@demo.atiende.app" in output
    secret = tmp_path / "demo.db.secret"  # the demo made its own secret, readable only by its owner
    assert len(secret.read_text().strip()) >= 32 and secret.stat().st_mode & 0o777 == 0o600


def test_serve_refuses_to_start_on_the_public_default_secret(sqlite_env: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ATIENDE_SECRET_KEY"}
    for secret in (None, "change-me-in-production", "short-secret"):
        chosen = {**env, **sqlite_env, **({"ATIENDE_SECRET_KEY": secret} if secret else {})}
        result = subprocess.run([sys.executable, "-m", "atiende.cli", "serve", "--port", str(_free_port())],
                                capture_output=True, text=True, env=chosen, timeout=60)
        assert result.returncode == 1, (secret, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1 and "ATIENDE_SECRET_KEY" in result.stderr
