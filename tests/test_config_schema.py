"""The schema and its documentation cannot drift apart: config/terminal.example.toml documents every key the
sections declare (and no other), the examples shipped in the repository load as they are, and the TOML snippets
in README.md and docs/ use only keys the terminal reads."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from terminal.config import PROVIDER_KEYS, SECTIONS, load
from terminal.config.schema import settings
from terminal.manager_pin import KEY as PIN_KEY

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config" / "terminal.example.toml"
SECRETS_EXAMPLE = ROOT / "config" / "secrets.example.toml"
# A [section] header, written or commented out ("# [till]"); a key line, written or commented out ("# key = …").
HEADER = re.compile(r"^#?\s*\[(\w+)\]")
KEY = re.compile(r"^#?\s*(\w+)\s*=")


def documented(text: str) -> set[tuple[str, str]]:
    """The (section, key) pairs a TOML text shows, commented out or not (keys before any header: none)."""
    found, section = set(), None
    for line in text.splitlines():
        if header := HEADER.match(line):
            section = header[1]
        elif section and (key := KEY.match(line)):
            found.add((section, key[1]))
    return found


def declared() -> set[tuple[str, str]]:
    return {(name, key) for name, cls in SECTIONS.items() for key, _ in settings(cls)}


def snippets() -> list[tuple[Path, str]]:
    """Every ```toml block of README.md and docs/*.md."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        found += [(path, block) for block in re.findall(r"```toml\n(.*?)```", path.read_text(), re.S)]
    return found


def test_the_example_config_and_secrets_file_load_together_as_install_pi_puts_them(tmp_path):
    secrets = tmp_path / "secrets.toml"
    shutil.copy(SECRETS_EXAMPLE, secrets)
    secrets.chmod(0o600)
    config_path = tmp_path / "terminal.toml"
    config_path.write_text(EXAMPLE.read_text().replace('"/etc/qr-terminal/secrets.toml"', f'"{secrets}"'))
    config = load(config_path, environ={})
    assert config.secrets_path == secrets
    assert config.device_token == "replace-with-the-token-your-backend-issued"


def test_every_key_the_sections_declare_is_documented_in_the_example():
    missing = declared() - documented(EXAMPLE.read_text())
    assert not missing, f"keys without a line in {EXAMPLE.name}: {sorted(missing)}"


def test_every_key_the_example_documents_is_one_the_sections_declare():
    shown = documented(EXAMPLE.read_text())
    assert len(shown) > 80  # the scanner reads the file (it has ~100 keys)
    unknown = shown - declared()
    assert not unknown, f"keys in {EXAMPLE.name} that the terminal refuses: {sorted(unknown)}"


def test_every_secret_the_terminal_reads_is_in_the_secrets_example():
    text = SECRETS_EXAMPLE.read_text()
    wanted = ["device_token", "till_secret", PIN_KEY, *(k for keys in PROVIDER_KEYS.values() for k in keys)]
    missing = [key for key in wanted if not re.search(rf"\b{key} = ", text)]
    assert not missing, f"secrets without a line in {SECRETS_EXAMPLE.name}: {missing}"


def test_the_toml_snippets_in_the_docs_use_only_keys_the_terminal_reads():
    shown = {(path.name, *pair) for path, block in snippets() for pair in documented(block)}
    assert ("till-protocol.md", "till", "passthrough") in shown  # the scanner reads the docs' snippets
    unknown = {item for item in shown if item[1:] not in declared()}
    assert not unknown, f"keys in the docs that the terminal refuses: {sorted(unknown)}"
