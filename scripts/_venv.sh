# Sourced by scripts/demo and scripts/test: makes .venv exist and hold the project.
# Re-installs only when pyproject.toml changed since the last install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
extras="${1:-}"

py="${PYTHON:-python3}"
if ! command -v "$py" >/dev/null 2>&1; then
    echo "qr-terminal needs Python 3.11 or newer: install it with 'sudo apt install python3'." >&2
    exit 3
fi
if ! "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "qr-terminal needs Python 3.11 or newer; $("$py" --version) found (Raspberry Pi OS Bookworm has 3.11)." >&2
    exit 3
fi
if [ ! -x "$venv/bin/python" ]; then
    if ! "$py" -m venv "$venv" >/dev/null 2>&1; then
        rm -rf "$venv"
        echo "Cannot create a virtual environment: install the OS package with" >&2
        echo "    sudo apt install python3-venv" >&2
        exit 3
    fi
fi
stamp="$venv/.installed-$extras"
want="$(cat "$root/pyproject.toml" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "Installing qr-terminal into .venv (first run takes a minute)…" >&2
    "$venv/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1 || true
    spec="$root"
    [ -n "$extras" ] && spec="$root[$extras]"
    "$venv/bin/python" -m pip install --quiet -e "$spec"
    echo "$want" > "$stamp"
fi
