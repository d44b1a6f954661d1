"""Deployment checks (`reviewshield check --deploy`) for what Django's own do not know about."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks


def _private_paths() -> list[Path]:
    """The data folder and the files in it that hold personal data or keys."""
    paths = [Path(settings.DATA_DIR), Path(settings.REVIEWSHIELD_LOG_KEY_FILE)]
    if not os.environ.get("SECRET_KEY"):
        paths.append(Path(settings.DATA_DIR) / "secret_key")
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        paths += [Path(name + suffix) for suffix in ("", "-wal", "-shm")]
    if settings.STORAGES["evidence"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        paths.append(Path(settings.REVIEWSHIELD_EVIDENCE_DIR))
    return paths


@checks.register(checks.Tags.security, deploy=True)
def private_files(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Warn about a data folder, database or key that others on the machine may read.

    Installations made before the data folder was created owner-only keep their old modes (the
    SQLite file was 0644): this names each such path so an admin can tighten it.
    """
    loose = []
    for path in _private_paths():
        try:
            mode = path.stat().st_mode
        except OSError:
            continue  # not created yet: it will be created owner-only
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            loose.append(f"{path} ({stat.filemode(mode)})")
    if not loose:
        return []
    return [
        checks.Warning(
            "Others on this machine may read personal data or keys: " + ", ".join(loose) + ".",
            hint="Run `chmod -R go-rwx` on the data folder (and the key file, if kept elsewhere); "
            "ReviewShield creates new files owner-only.",
            id="reviewshield.W001",
        )
    ]
