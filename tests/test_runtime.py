"""A web process loads what it keeps before it freezes its heap (`reviewshield.wsgi`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHECK = """
import gc, sys
import reviewshield.wsgi
from reviewshield.api.site import api
from reviewshield.detection.lexicons import registry
tracked = {id(o) for o in gc.get_objects()}
print(id(api) in tracked, id(registry().current()) in tracked, gc.get_freeze_count() > 0)
"""


def test_the_url_patterns_and_lexicon_are_loaded_and_frozen_before_the_first_request(tmp_path: Path) -> None:
    """Loaded at the first request instead, they would stay in the collector's sight for the life of
    the process, and every full collection in the middle of a request would walk them again."""
    env = {
        **os.environ,
        "REVIEWSHIELD_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "reviewshield.settings",
    }
    env.pop("DATABASE_URL", None)  # importing the application touches no database

    done = subprocess.run([sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "False", "True"]


def test_broken_lexicon_files_refuse_screening_not_the_whole_site(tmp_path: Path) -> None:
    lexicons = tmp_path / "lexicons"
    lexicons.mkdir()
    (lexicons / "threat.toml").write_text("this is [not toml", encoding="utf-8")
    env = {
        **os.environ,
        "REVIEWSHIELD_DATA_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "reviewshield.settings",
        "REVIEWSHIELD_LEXICON_DIR": str(lexicons),
    }
    env.pop("DATABASE_URL", None)

    done = subprocess.run(
        [sys.executable, "-c", "import reviewshield.wsgi; print('started')"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "started"
    assert "lexicon not loaded at start" in done.stderr and str(lexicons) in done.stderr


def test_the_sqlite_page_cache_is_the_configured_size(tmp_path: Path) -> None:
    """64 MiB a connection unless configured: SQLite's own 2 MiB held less than a screening batch reads."""
    check = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('PRAGMA cache_size'); print(c.fetchone()[0])\n"
    )
    found = []
    for configured in (None, "8"):
        env = {
            **os.environ,
            "REVIEWSHIELD_DATA_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "reviewshield.settings",
        }
        env.pop("DATABASE_URL", None)
        env.pop("REVIEWSHIELD_SQLITE_CACHE_MB", None)
        if configured:
            env["REVIEWSHIELD_SQLITE_CACHE_MB"] = configured
        done = subprocess.run(
            [sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        found.append(done.stdout.split()[-1])
    assert found == ["-65536", "-8192"]  # KiB, as SQLite counts a negative size


CHECKPOINTS = """
import sqlite3, sys, time
import django; django.setup()
from django.db import connection
from reviewshield.runtime import start_sqlite_checkpointer

background = sys.argv[1] == "background"
started = start_sqlite_checkpointer(interval=0.05) if background else None
# A request's connection, opened after the server started; kept open, as a web thread keeps it
# (SQLite checkpoints anyway when the last connection to a file closes).
with connection.cursor() as c:
    c.execute("PRAGMA wal_autocheckpoint"); autocheckpoint = c.fetchone()[0]
    c.execute("CREATE TABLE kept (what text)")
    c.execute("INSERT INTO kept VALUES ('the complaint')")
path = connection.settings_dict["NAME"]
found = []
deadline = time.monotonic() + 10
while time.monotonic() < deadline and not found:
    # immutable=1 reads the database file alone, never the write-ahead log beside it
    file_only = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        found = file_only.execute("SELECT what FROM kept").fetchall()
    except sqlite3.OperationalError:
        pass  # the table is not in the file yet
    file_only.close()
    if not background:
        break
    time.sleep(0.05)
if started:
    started[1].set(); started[0].join(timeout=10)
print(autocheckpoint, bool(found))
"""


def test_the_server_copies_commits_into_the_sqlite_file_beside_the_requests(tmp_path: Path) -> None:
    """`reviewshield serve` runs SQLite's checkpoints on a thread of its own: a request that commits
    never also copies 4 MB of log into the file (one screening batch in seven did), and what is
    committed still reaches the database file itself within moments."""
    printed = {}
    for mode in ("background", "sqlite's own"):
        env = {
            **os.environ,
            "REVIEWSHIELD_DATA_DIR": str(tmp_path / mode.replace(" ", "-").replace("'", "")),
            "DJANGO_SETTINGS_MODULE": "reviewshield.settings",
        }
        env.pop("DATABASE_URL", None)
        done = subprocess.run(
            [sys.executable, "-c", CHECKPOINTS, mode.split()[0]],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        printed[mode] = done.stdout.split()

    # The request's connection leaves checkpoints to the thread, and the commit is in the file.
    assert printed["background"] == ["0", "True"]
    # Without the thread, SQLite checkpoints in the committing request, once the log is 1,000 pages
    # long: a small commit stays in the log only.
    assert printed["sqlite's own"] == ["1000", "False"]
