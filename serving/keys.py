"""The pseudonymisation key: CRM_PII_KEY, else a key generated once into data/secrets/pii.key (mode 0600).

The same key gives the same pseudonym for a value on every run, so BI can count and join people across
publications; anyone who holds it can test a guessed value, so it never enters the repository or a log."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_ENV = "CRM_PII_KEY"
KEY_FILE = "pii.key"


def pii_key(secrets_dir: Path) -> bytes:
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode()
    path = secrets_dir / KEY_FILE
    if not path.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(secrets_dir, 0o700)
        # written aside, then linked into place: of two processes starting at once, one key wins whole
        draft = secrets_dir / f".{KEY_FILE}.{os.getpid()}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip().encode()
