"""Lexicons reload without a restart: an edit is picked up, a broken edit is refused and the last good
lexicon stays in use; every verdict records the version it was given under."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from reviewshield.detection.lexicons import LexiconRegistry
from reviewshield.detection.models import ScreenedMessage
from reviewshield.screening.lexicon import SHIPPED_DIR
from tests.conftest import as_user
from tests.detection.conftest import item, screen

NEW_ENTRY = """

[[entries]]
id = "cactus-test"
cues = ["menace"]
lang = "en"
weight = 0.95
weight_calm = 0.95
terms = ["feed you to the cactus"]
example = "I will feed you to the cactus"
"""


@pytest.fixture
def folder(tmp_path: Path, settings: Any) -> Path:
    target = tmp_path / "lexicons"
    shutil.copytree(SHIPPED_DIR, target)
    settings.REVIEWSHIELD_LEXICON_DIR = str(target)
    settings.REVIEWSHIELD_LEXICON_CHECK_SECONDS = 0
    return target


def _bump(folder: Path, version: str) -> None:
    rules = folder / "rules.toml"
    text = rules.read_text(encoding="utf-8")
    start = text.index('version = "')
    end = text.index('"', start + len('version = "'))
    rules.write_text(text[:start] + f'version = "{version}' + text[end:], encoding="utf-8")


@pytest.mark.django_db
def test_an_edited_lexicon_is_used_without_a_restart(folder: Path, chat_backend: Any, members: Any) -> None:
    first = screen(chat_backend, item("m1", "I will feed you to the cactus")).json()
    assert first["verdicts"][0]["action"] == "allow"

    with (folder / "threat.toml").open("a", encoding="utf-8") as f:
        f.write(NEW_ENTRY)
    _bump(folder, "2099.01-1")
    second = screen(chat_backend, item("m2", "I will feed you to the cactus")).json()
    assert second["verdicts"][0]["action"] == "block"
    assert second["lexicon"]["version"] == "2099.01-1"
    assert second["lexicon"]["hash"] != first["lexicon"]["hash"]
    assert ScreenedMessage.objects.get(message_id="m2").lexicon_version == "2099.01-1"


@pytest.mark.django_db
def test_a_broken_edit_is_refused_and_the_last_good_lexicon_stays(
    folder: Path, chat_backend: Any, members: Any
) -> None:
    good = screen(chat_backend, item("m1", "I will kill you")).json()
    (folder / "threat.toml").write_text(
        (folder / "threat.toml").read_text(encoding="utf-8") + '\n[[entries]]\nid = "no-terms"\n',
        encoding="utf-8",
    )
    after = screen(chat_backend, item("m2", "I will kill you")).json()
    assert after["verdicts"][0]["action"] == "block"
    assert after["lexicon"] == good["lexicon"]
    status = as_user(members.erin).get("/api/screen/lexicon").json()
    assert status["version"] == good["lexicon"]["version"]
    assert "threat.toml" in status["refused"]["message"]


def test_the_registry_looks_at_the_files_only_every_few_seconds(tmp_path: Path) -> None:
    target = tmp_path / "lexicons"
    shutil.copytree(SHIPPED_DIR, target)
    registry = LexiconRegistry(target, check_seconds=3600)
    first = registry.current()
    _bump(target, "2099.02-1")
    assert registry.current() is first  # not looked at yet
    assert registry.reload().version == "2099.02-1"  # an admin's reload looks now


def test_a_broken_lexicon_at_start_is_an_error_not_an_empty_lexicon(tmp_path: Path) -> None:
    from reviewshield.screening import LexiconError

    target = tmp_path / "lexicons"
    shutil.copytree(SHIPPED_DIR, target)
    (target / "rules.toml").write_text("version = 3\n", encoding="utf-8")
    with pytest.raises(LexiconError):
        LexiconRegistry(target, check_seconds=0).current()


@pytest.mark.django_db
def test_only_admins_reload_by_hand(folder: Path, members: Any) -> None:
    assert as_user(members.erin).post("/api/screen/lexicon/reload").status_code == 403
    response = as_user(members.admin).post("/api/screen/lexicon/reload")
    assert response.status_code == 200 and response.json()["refused"] is None
