"""Real worker processes: clean stop on SIGTERM, and exactly-once firing while workers are killed.

The workers run `python -m reviewshield worker` with the `test.*` handlers loaded through
$REVIEWSHIELD_HANDLER_MODULES. On PostgreSQL they share the pytest test database; SQLite workers
use a migrated temporary file database of their own (pytest's SQLite test database lives in memory).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reviewshield.deadlines import testing

WORKER_ENV_BASE = {
    "REVIEWSHIELD_HANDLER_MODULES": "reviewshield.deadlines.testing",
    "REVIEWSHIELD_LOG_LEVEL": "INFO",
    "PYTHONUNBUFFERED": "1",
}


def worker_env(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        **WORKER_ENV_BASE,
        "DATABASE_URL": database_url,
        "REVIEWSHIELD_DATA_DIR": str(data_dir),
    }


class Worker:
    """One `reviewshield worker` subprocess, its log in a file (a pipe could fill up and block it)."""

    def __init__(self, env: dict[str, str], log_dir: Path, tag: str, *args: str) -> None:
        self.log_path = log_dir / f"worker-{tag}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reviewshield", "worker", "--skip-checks", *args],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def running(self) -> bool:
        """True once the worker loop has started (it logs "deadline worker NAME started")."""
        return " started (batch" in self.log()

    def wait_started(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while not self.running():
            assert self.proc.poll() is None, f"worker exited early:\n{self.log()[-3000:]}"
            assert time.monotonic() < end, f"worker did not start:\n{self.log()[-3000:]}"
            time.sleep(0.05)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def run_django_script(env: dict[str, str], code: str) -> None:
    script = "import django; django.setup()\n" + code
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "DJANGO_SETTINGS_MODULE": "reviewshield.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]


SEED = """
from datetime import timedelta
from django.utils import timezone
from reviewshield.deadlines.models import Deadline
due = timezone.now() - timedelta(minutes=1)
Deadline.objects.bulk_create(
    [Deadline(kind={kind!r}, due_at=due, available_at=due, payload={payload!r}) for _ in range({n})],
    batch_size=500,
)
"""


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file database migrated once by a subprocess; tests get copies."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    db = folder / "template.sqlite3"
    env = worker_env(f"sqlite:///{db}", folder)
    proc = subprocess.run(
        [sys.executable, "-m", "reviewshield", "migrate", "--noinput", "--skip-checks"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    # Fold the WAL into the main file, so copying the one file copies everything.
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


@pytest.fixture
def sqlite_db(migrated_sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    db = tmp_path / "workers.sqlite3"
    shutil.copyfile(migrated_sqlite_template, db)
    yield db, worker_env(f"sqlite:///{db}", tmp_path)


def sqlite_query(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_worker_stops_cleanly_on_sigterm_after_finishing_its_batch(
    sqlite_db: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    db, env = sqlite_db
    # 40 deadlines at 25 ms each in batches of 20: SIGTERM lands in the middle of a batch.
    run_django_script(env, SEED.format(kind=testing.RECORD, payload={"sleep_ms": 25}, n=40))
    w = Worker(env, tmp_path, "sigterm", "--name", "sigterm-w", "--batch", "20", "--idle-sleep", "0.2")
    try:
        w.wait_started()
        end = time.monotonic() + 30
        while not sqlite_query(db, "SELECT 1 FROM deadlines_deadline WHERE claimed_by = 'sigterm-w' LIMIT 1"):
            assert time.monotonic() < end, w.log()[-3000:]
            time.sleep(0.01)
        assert w.stop(timeout=15) == 0, w.log()[-3000:]
    finally:
        w.kill()
    assert "stopped after" in w.log()
    # The batch in hand was finished and committed: nothing is left claimed by the stopped worker.
    assert sqlite_query(
        db, "SELECT count(*) FROM deadlines_deadline WHERE claimed_by = 'sigterm-w' AND done_at IS NULL"
    ) == [(0,)]
    fired = sqlite_query(db, "SELECT count(*) FROM deadlines_deadline WHERE outcome = 'fired'")[0][0]
    assert fired >= 1
    assert sqlite_query(db, "SELECT count(*) FROM deadlines_deadlinerun") == [(fired,)]


def test_idle_worker_stops_on_sigterm(sqlite_db: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    _, env = sqlite_db
    w = Worker(env, tmp_path, "idle", "--idle-sleep", "30")
    try:
        w.wait_started()
        time.sleep(0.3)  # let it reach its idle sleep; the signal must cut that short
        assert w.stop(timeout=10) == 0, w.log()[-3000:]
    finally:
        w.kill()


def test_two_sqlite_workers_fire_each_deadline_once_even_when_one_is_killed(
    sqlite_db: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    db, env = sqlite_db
    total = 600
    run_django_script(env, SEED.format(kind=testing.RECORD, payload={"sleep_ms": 5}, n=total))
    args = ("--batch", "20", "--lease-seconds", "2", "--idle-sleep", "0.1")
    workers = {name: Worker(env, tmp_path, name, "--name", name, *args) for name in ("sq-0", "sq-1")}
    done_sql = "SELECT count(*) FROM deadlines_deadline WHERE done_at IS NOT NULL"
    holders_sql = (
        "SELECT DISTINCT claimed_by FROM deadlines_deadline WHERE done_at IS NULL AND claimed_by != ''"
    )
    killed: list[Worker] = []
    try:
        end = time.monotonic() + 90
        while (done := sqlite_query(db, done_sql)[0][0]) < total:
            assert time.monotonic() < end, f"only {done}/{total} done:\n{workers['sq-0'].log()[-2000:]}"
            holders = [name for (name,) in sqlite_query(db, holders_sql) if name in workers]
            if not killed and done >= total // 4 and holders:
                # Killed while holding a claim: whoever takes those rows after the lease redoes them.
                victim = workers.pop(holders[0])
                victim.kill()
                killed.append(victim)
                workers["sq-restarted"] = Worker(
                    env, tmp_path, "sq-restarted", "--name", "sq-restarted", *args
                )
            time.sleep(0.05)
        assert [w.stop() for w in workers.values()] == [0, 0]
    finally:
        for w in [*workers.values(), *killed]:
            w.kill()
    assert killed
    assert sqlite_query(db, "SELECT count(*) > 0 FROM deadlines_deadline WHERE attempts > 1") == [(1,)]
    logs = "\n".join(w.log() for w in [*workers.values(), *killed])
    assert "database is locked" not in logs
    assert "Traceback" not in logs
    assert sqlite_query(db, "SELECT outcome, count(*) FROM deadlines_deadline GROUP BY outcome") == [
        ("fired", total)
    ]
    assert sqlite_query(db, "SELECT count(*), count(DISTINCT deadline_id) FROM deadlines_deadlinerun") == [
        (total, total)
    ]
    assert sqlite_query(
        db,
        "SELECT count(*), count(DISTINCT json_extract(payload, '$.deadline')) FROM outbox_outboxmessage "
        f"WHERE topic = '{testing.RECORD}'",
    ) == [(total, total)]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_crash_test_workers_killed_at_random_fire_every_deadline_exactly_once(tmp_path: Path) -> None:
    from django.db import connection
    from django.utils import timezone

    from reviewshield.deadlines.models import Deadline, DeadlineRun, Outcome
    from reviewshield.outbox.models import OutboxMessage

    if connection.vendor != "postgresql":
        pytest.skip("the multi-worker crash test needs PostgreSQL (run the PostgreSQL pass)")
    total = 3000
    due = timezone.now() - timedelta(minutes=1)
    # 8 ms per handler and batches of 25 keep every running worker inside an open batch nearly all
    # the time, so a SIGKILL almost always lands between a claim and its commit.
    Deadline.objects.bulk_create(
        [
            Deadline(kind=testing.RECORD, due_at=due, available_at=due, payload={"sleep_ms": 3})
            for _ in range(total)
        ]
    )
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    url = f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"
    env = worker_env(url, tmp_path)
    args = ("--batch", "25", "--lease-seconds", "2", "--idle-sleep", "0.1")
    rng = random.Random(20260925)
    workers = [Worker(env, tmp_path, f"{i}", *args) for i in range(4)]
    retired: list[Worker] = []
    kills = 0
    try:
        end = time.monotonic() + 120
        while (done := Deadline.objects.filter(done_at__isnull=False).count()) < total:
            assert time.monotonic() < end, f"only {done}/{total} done:\n{workers[0].log()[-2000:]}"
            time.sleep(rng.uniform(0.3, 0.8))
            if kills >= 12:
                continue
            i = rng.randrange(len(workers))
            victim = workers[i]
            if not victim.running():  # still importing Django: a kill would prove nothing
                continue
            victim.kill()
            kills += 1
            retired.append(victim)
            workers[i] = Worker(env, tmp_path, f"{i}-{kills}", *args)
        # A replacement may still be importing Django; SIGTERM before the worker loop has set up
        # its handlers is a kill, not the clean stop this checks.
        for w in workers:
            w.wait_started()
        assert [w.stop() for w in workers] == [0] * len(workers)
    finally:
        for w in workers + retired:
            w.kill()

    assert kills >= 5
    assert dict(Counter(Deadline.objects.values_list("outcome", flat=True))) == {Outcome.FIRED: total}
    runs = Counter(DeadlineRun.objects.values_list("deadline_id", flat=True))
    assert len(runs) == total
    assert set(runs.values()) == {1}
    effects = Counter(
        m["deadline"]
        for m in OutboxMessage.objects.filter(topic=testing.RECORD).values_list("payload", flat=True)
    )
    assert len(effects) == total
    assert set(effects.values()) == {1}
    # The kills really hit open batches: some deadlines had to be claimed again after a lease ran out.
    assert Deadline.objects.filter(attempts__gt=1).exists()
