#!/usr/bin/env bash
# Autogenerate a migration from the models against a scratch SQLite database at head.
# Usage: scripts/new_migration.sh "message" [rev-id]
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
url="sqlite+aiosqlite:///$tmp/gen.db"
python3 - "$url" "$1" "${2:-}" <<'PY'
import sys
from alembic import command
from atiende.migrate import alembic_config, upgrade
url, message, rev = sys.argv[1], sys.argv[2], sys.argv[3] or None
upgrade(url)
command.revision(alembic_config(url), message=message, autogenerate=True, rev_id=rev)
PY
rm -rf "$tmp"
