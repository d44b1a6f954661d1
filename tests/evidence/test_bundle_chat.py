"""Cited chat evidence numbers in bundles and in the log's inclusion API: the frozen messages travel
with the case, recompute to the logged hash offline, and any change is named with its number."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from datetime import timedelta

import pytest

from reviewshield.accounts.models import User
from reviewshield.chat import services as chat_services
from reviewshield.chat.services import IncomingMessage
from reviewshield.evidence.log import verifier
from reviewshield.proofs.bundle import verify_bundle
from reviewshield.proofs.checkpoint import open_checkpoint
from reviewshield.proofs.merkle import leaf_hash, verify_inclusion
from tests.conftest import as_user, local
from tests.evidence.test_bundles import download, rewrite

NOW = local(2026, 11, 12, 9, 0)


def say(message_id, hours_ago, text, sender="seller"):
    return IncomingMessage(message_id, sender, NOW - timedelta(hours=hours_ago), text)


def push(*messages, conversation_id="C1", shop_id="S1", buyer_id="tb_bob"):
    return chat_services.chat_messages_push(
        platform="taobao",
        conversation_id=conversation_id,
        shop_id=shop_id,
        buyer_id=buyer_id,
        messages=list(messages),
        now=NOW,
    )


def make_number(buyer, first, last, conversation_id="C1"):
    return chat_services.chat_evidence_create(
        buyer=buyer,
        platform="taobao",
        conversation_id=conversation_id,
        first_message_id=first,
        last_message_id=last,
        now=NOW,
    )


@pytest.fixture
def cited(cast, time_machine):
    """Bob's complaint against Alice's Tea citing number JZ… (messages m2–m4 of conversation C1)."""
    from reviewshield.cases import services

    time_machine.move_to(NOW, tick=False)
    User.objects.filter(pk=cast.bob.pk).update(external_id="taobao:tb_bob")
    push(
        say("m1", 5, "Hello, any questions?"),
        say("m2", 4, "The tea was stale.", sender="buyer"),
        say("m3", 3, "Delete your review."),
        say("m4", 2, f"I know where you live: {cast.bob.address}."),
    )
    order = cast.order(trade_success_at=NOW - timedelta(days=2))
    case = services.case_file(
        buyer=cast.bob,
        order_id=order.pk,
        harassment_types=["threats_insults"],
        occurred_at=NOW - timedelta(hours=2),
        narrative="The seller threatened me in the chat after my review.",
        now=NOW,
    )
    number = make_number(cast.bob, "m2", "m4")
    chat_services.chat_evidence_cite(case_id=case.pk, user=cast.bob, number=number.number, now=NOW)
    return case, number


def contents(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("manifest.json")), {n: z.read(n) for n in z.namelist()}


def test_the_bundle_carries_the_cited_stretch_and_it_verifies(cast, cited, tmp_path):
    case, number = cited
    # Later pushes change nothing the number covers: a conflicting m3 is refused, a late message
    # timed inside the stretch does not join it.
    assert push(say("m3", 3, "Have a nice day.")).conflicts.keys() == {"m3"}
    push(say("m3b", 2.5, "Pushed later."))

    path = download(as_user(cast.bob), case, tmp_path)
    report = verify_bundle(path, key=verifier())
    manifest, files = contents(path)

    assert report.ok, report.problems
    assert report.checked_chats == 1 and "and 1 chat stretch verify" in report.text()
    name = f"chat/{number.number}.json"
    assert manifest["chat"] == [
        {
            "number": number.number,
            "sha256": number.sha256,
            "messages": 3,
            "ref": f"chat_evidence:{number.pk}",
            "file": name,
        }
    ]
    # The file is the canonical encoding itself: `sha256sum` of it is the number's hash.
    assert hashlib.sha256(files[name]).hexdigest() == number.sha256
    stretch = json.loads(files[name])
    assert [m["id"] for m in stretch["messages"]] == ["m2", "m3", "m4"]
    assert stretch["messages"][1]["text"] == "Delete your review."
    # The number's own record, logged with no case, comes along with its proof.
    assert f"chat_evidence:{number.pk}" in {i["ref"] for i in manifest["items"]}
    assert "verifier/reviewshield/proofs/chatdigest.py" in files
    # The agent's bundle carries it too.
    assert verify_bundle(download(as_user(cast.erin), case, tmp_path)).checked_chats == 1


def test_a_changed_message_is_named_with_its_file_and_number(cast, cited, tmp_path):
    case, number = cited
    path = download(as_user(cast.bob), case, tmp_path)
    name = f"chat/{number.number}.json"

    bad = verify_bundle(rewrite(path, lambda n, d: d.replace(b"stale", b"stalE") if n == name else d))

    assert not bad.ok
    assert len(bad.problems) == 1, bad.problems
    problem = bad.problems[0]
    assert problem.startswith(
        f"{name}: messages do not match the SHA-256 of chat evidence number {number.number}"
    )
    assert f"the number's is {number.sha256} (chat_evidence:{number.pk}, event:" in problem
    assert problem.endswith("the messages were changed")


def test_a_changed_hash_in_the_manifest_is_named(cast, cited, tmp_path):
    case, number = cited
    path = download(as_user(cast.bob), case, tmp_path)
    forged = "0" * 64

    def forge(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["chat"][0]["sha256"] = forged
        return json.dumps(manifest).encode()

    bad = verify_bundle(rewrite(path, forge))

    assert not bad.ok
    assert len(bad.problems) == 1, bad.problems  # the file still matches the log: only the manifest is named
    problem = bad.problems[0]
    assert problem.startswith(
        f"manifest.json, chat evidence number {number.number}: the manifest gives SHA-256 {forged}, "
        f"but the log recorded {number.sha256} (chat_evidence:{number.pk}, event:"
    )
    assert problem.endswith("the manifest was changed")


def test_a_file_edited_beyond_the_messages_or_a_stretch_nobody_logged_fails(cast, cited, tmp_path):
    case, number = cited
    path = download(as_user(cast.bob), case, tmp_path)
    name = f"chat/{number.number}.json"

    def add_field(n, data):
        if n != name:
            return data
        stretch = json.loads(data)
        stretch["messages"][0]["note"] = "the buyer agreed"
        return json.dumps(stretch).encode()

    bad = verify_bundle(rewrite(path, add_field))
    assert any(
        p.startswith(f"{name}: not the messages of chat evidence number {number.number}")
        for p in bad.problems
    )

    def invent(n, data):
        if n != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["chat"][0]["number"] = "JZ20261112DEADBEEF"
        return json.dumps(manifest).encode()

    bad = verify_bundle(rewrite(path, invent))
    assert any("JZ20261112DEADBEEF: no verified log record" in p for p in bad.problems)


def test_a_stretch_left_out_of_the_manifest_is_noted_and_the_change_named(cast, cited, tmp_path):
    case, number = cited
    path = download(as_user(cast.bob), case, tmp_path)

    def leave_out(name, data):
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        manifest["chat"][0]["file"] = None
        return json.dumps(manifest).encode()

    def as_before_chat(name, data):  # a bundle made before bundles carried chat
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        del manifest["chat"]
        return json.dumps(manifest).encode()

    for change in (leave_out, as_before_chat):
        report = verify_bundle(rewrite(path, change))
        assert report.checked_chats == 0
        assert any(number.number in n and "not included in this bundle" in n for n in report.notes)
        # The bundle was signed with the stretch in it: taking it out of the manifest is a change.
        assert len(report.problems) == 1 and report.problems[0].startswith(
            "manifest.json: changed after the bundle was made"
        )


def test_the_shipped_verifier_checks_the_stretch_without_django(cast, cited, tmp_path):
    case, number = cited
    path = download(as_user(cast.bob), case, tmp_path)
    name = f"chat/{number.number}.json"
    tampered = rewrite(path, lambda n, d: d.replace(b"stale", b"stalE") if n == name else d)
    key = verifier()
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            if member.startswith("verifier/"):
                z.extract(member, tmp_path / "unpacked")

    def run(bundle):
        return subprocess.run(
            [sys.executable, "-m", "reviewshield.proofs.bundle", str(bundle), "--key", key],
            cwd=tmp_path / "unpacked" / "verifier",  # the shipped copy, not the installed package
            env={"PATH": "/usr/bin:/bin"},  # no DJANGO_SETTINGS_MODULE, no database, no data folder
            capture_output=True,
            text=True,
            check=False,
        )

    ok, bad = run(path), run(tampered)

    assert ok.returncode == 0 and ok.stdout.startswith("OK:") and "1 chat stretch" in ok.stdout, (
        ok.stdout + ok.stderr
    )
    assert (
        bad.returncode == 1
        and f"- {name}: messages do not match" in bad.stdout
        and number.number in bad.stdout
    )


def test_the_numbers_inclusion_proof_for_who_may_see_it(cast, cited):
    _case, number = cited
    ref = f"chat_evidence:{number.pk}"

    def inclusion(user, wanted=ref):
        return as_user(user).get("/api/log/inclusion", {"ref": wanted})

    buyer, agent, seller = inclusion(cast.bob), inclusion(cast.erin), inclusion(cast.alice)

    assert buyer.status_code == 200, buyer.content
    body = buyer.json()
    assert json.loads(body["record"]) == {
        "type": "chat_evidence",
        "id": number.pk,
        "number": number.number,
        "conversation": "taobao:C1",
        "messages": 3,
        "sha256": number.sha256,
    }
    root = bytes.fromhex(body["checkpoint"]["root"])
    proof = [bytes.fromhex(h) for h in body["proof"]]
    assert verify_inclusion(leaf_hash(body["record"].encode()), body["index"], body["size"], proof, root)
    assert open_checkpoint(body["checkpoint"]["note"], body["checkpoint"]["verifier_key"]).root == root
    assert agent.status_code == 200 and agent.json()["record"] == body["record"]
    # The seller of the shop it is cited against: the proof and leaf hash, never the record.
    assert seller.status_code == 200 and seller.json()["record"] is None
    assert seller.json()["leaf_hash"] == body["leaf_hash"]
    for outsider in (cast.carol, cast.dave):
        assert inclusion(outsider).status_code == 404
    for unknown in ("chat_evidence:999999", "chat_evidence:x", "chat_evidence:"):
        assert inclusion(cast.erin, unknown).status_code == 404


def test_an_uncited_number_is_its_buyers_and_agents_only(cast, cited):
    _case, _number = cited
    draft = make_number(cast.bob, "m1", "m2")
    ref = f"chat_evidence:{draft.pk}"

    def status(user):
        return as_user(user).get("/api/log/inclusion", {"ref": ref}).status_code

    assert (status(cast.bob), status(cast.erin)) == (200, 200)
    assert (status(cast.alice), status(cast.carol)) == (404, 404)
