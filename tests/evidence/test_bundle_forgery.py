"""`reviewshield verify` against forgers: never OK without a pinned key, a re-signed forgery is refused
by the published key, and each quiet change — a record left out, another case reference, an added
member, a changed verifier, damaged bytes — is named, with its exit code."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from reviewshield.evidence.log import verifier
from reviewshield.proofs.bundle import (
    CONTENTS,
    EXIT_FAILED,
    EXIT_FORGED,
    EXIT_OK,
    EXIT_UNVERIFIED,
    Contents,
    Leaf,
    main,
)
from reviewshield.proofs.checkpoint import (
    Checkpoint,
    key_fingerprint,
    public_bytes,
    sign,
    sign_checkpoint,
    verifier_key,
)
from reviewshield.proofs.merkle import Frontier, inclusion_proofs, leaf_hash
from tests.conftest import as_user
from tests.evidence.test_bundles import PHOTO, case, download  # noqa: F401 - `case` is a fixture

ORIGIN = "reviewshield.local/evidence"


@pytest.fixture
def bundle(cast, case, tmp_path):  # noqa: F811
    return download(as_user(cast.bob), case, tmp_path)


def members_of(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def edit_manifest(members, change):
    manifest = json.loads(members["manifest.json"])
    change(manifest)
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()


def tampered(path, change, name="tampered.zip"):
    """The bundle with `change(members)` applied and nothing re-signed: a forger without any key."""
    members = members_of(path)
    change(members)
    return write(path.with_name(name), members)


def re_signed(path, change, name="forged.zip", key=None):
    """The bundle as a forger with a key of their own would remake it after `change(members)`: a
    fresh log of the manifest's records, its checkpoint, the contents and log-key.txt, all theirs."""
    key = key or Ed25519PrivateKey.generate()
    members = members_of(path)
    change(members)
    manifest = json.loads(members["manifest.json"])
    frontier, nodes = Frontier(), {}
    for item in manifest["items"]:
        nodes.update(frontier.append(leaf_hash(item["record"].encode())))
    size = len(manifest["items"])
    proofs = inclusion_proofs(list(range(size)), size, lambda keys: {k: nodes[k] for k in keys})
    for index, (item, proof) in enumerate(zip(manifest["items"], proofs, strict=True)):
        item["leaf_index"], item["proof"] = index, [h.hex() for h in proof]
    members["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
    members["checkpoint.txt"] = sign_checkpoint(
        Checkpoint(ORIGIN, size, frontier.root()), ORIGIN, key
    ).encode()
    members["log-key.txt"] = (verifier_key(ORIGIN, public_bytes(key)) + "\n").encode()
    leaves = tuple(
        Leaf(i, item["ref"], item.get("copy", "-"), item.get("file", ""))
        for i, item in enumerate(manifest["items"])
    )
    listed = tuple(sorted((n, hashlib.sha256(d).hexdigest()) for n, d in members.items() if n != CONTENTS))
    contents = Contents(manifest["case"], manifest["reader"], leaves, listed)
    members[CONTENTS] = sign(contents.body(), ORIGIN, key).encode()
    return write(path.with_name(name), members)


def verify(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().out


# --- The key: published without login, and pinned -------------------------------------------------


def test_the_log_key_and_its_fingerprint_are_published_without_login_and_in_the_bundle(bundle):
    anonymous = Client()
    published = anonymous.get("/api/log/checkpoint")
    assert published.status_code == 200
    body = published.json()
    fingerprint = key_fingerprint(verifier())
    assert body["verifier_key"] == verifier() and body["fingerprint"] == fingerprint
    assert re.fullmatch(r"([0-9a-f]{4} ){15}[0-9a-f]{4}", fingerprint)

    page = anonymous.get("/verify/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert fingerprint in page.content.decode() and verifier() in page.content.decode()
    assert "核验证据包" in page.content.decode()
    assert 'href="/verify/"' in anonymous.get("/blacklist/").content.decode()  # in every page's footer

    index = members_of(bundle)["index.html"].decode()
    footer = index[index.index("<footer>") :]
    assert fingerprint in footer and verifier() in footer and "--fingerprint" in index


def test_without_a_pinned_key_it_never_says_ok_and_prints_the_fingerprint_to_compare(bundle, capsys):
    code, out = verify(capsys, bundle)

    assert code == EXIT_UNVERIFIED == 3
    assert out.startswith("ORIGIN UNVERIFIED") and not out.startswith("OK")
    assert key_fingerprint(verifier()) in out and "来源未验证" in out


def test_a_pinned_key_or_fingerprint_that_matches_says_ok(bundle, capsys, tmp_path, monkeypatch):
    key_file = tmp_path / "published-key.txt"
    key_file.write_text(verifier() + "\n")
    fingerprint = key_fingerprint(verifier())

    for pin in (["--key", verifier()], ["--key", key_file], ["--fingerprint", fingerprint.upper()]):
        code, out = verify(capsys, bundle, *pin)
        assert code == EXIT_OK and out.startswith("OK:") and "通过" in out, (pin, out)
    monkeypatch.setenv("REVIEWSHIELD_VERIFY_FINGERPRINT", fingerprint.replace(" ", ""))
    assert verify(capsys, bundle)[0] == EXIT_OK


def test_a_re_signed_forgery_with_changed_evidence_is_never_ok(cast, bundle, capsys, tmp_path):
    other = b"\x89PNG a different photo altogether"

    def swap_photo(members):
        photo = next(n for n, d in members.items() if d == PHOTO)
        del members[photo]
        forged_name = f"files/{hashlib.sha256(other).hexdigest()}"
        members[forged_name] = other

        def point_at_it(manifest):
            for item in manifest["items"]:
                if item.get("file") == photo:
                    item["file"] = forged_name
                    record = json.loads(item["record"])
                    record.update(sha256=hashlib.sha256(other).hexdigest(), size=len(other))
                    item["record"] = json.dumps(record, sort_keys=True, separators=(",", ":"))

        edit_manifest(members, point_at_it)

    forged = re_signed(bundle, swap_photo)

    # Unpinned, it is consistent with the forger's own key — and still not OK.
    code, out = verify(capsys, forged)
    assert code == EXIT_UNVERIFIED and not out.startswith("OK")
    forger = re.search(r"\n    ((?:[0-9a-f]{4} ){15}[0-9a-f]{4})\n", out).group(1)
    assert forger != key_fingerprint(verifier())  # what the outsider compares with /verify/
    # Pinned to the published key or fingerprint: forged.
    for pin in (["--key", verifier()], ["--fingerprint", key_fingerprint(verifier())]):
        code, out = verify(capsys, forged, *pin)
        assert code == EXIT_FORGED == 4 and out.startswith("FORGED OR UNKNOWN KEY"), out
        assert forger in out and "伪造或未知密钥" in out


# --- Each quiet change, named ------------------------------------------------------------------------


def defence_ref(members):
    manifest = json.loads(members["manifest.json"])
    return next(i["ref"] for i in manifest["items"] if '"kind":"answered_defence"' in i["record"])


def test_a_logged_record_left_out_of_the_manifest_is_named(cast, case, bundle, capsys):  # noqa: F811
    left_out = defence_ref(members_of(bundle))

    def drop(members):
        edit_manifest(members, lambda m: m.update(items=[i for i in m["items"] if i["ref"] != left_out]))

    code, out = verify(capsys, tampered(bundle, drop), "--key", verifier())
    assert code == EXIT_FAILED == 1
    assert f"- {left_out} (leaf " in out
    assert (
        f"a logged record of case {case.reference} is left out of the manifest — an item was dropped" in out
    )

    # Signing the shortened contents with another key: the published key does not sign them.
    def drop_and_sign_contents(members):
        drop(members)
        text = members[CONTENTS].decode().split("\n\n")[0] + "\n"
        shorter = "".join(line + "\n" for line in text.splitlines() if f" {left_out} " not in line)
        members[CONTENTS] = sign(shorter, ORIGIN, Ed25519PrivateKey.generate()).encode()

    code, out = verify(capsys, tampered(bundle, drop_and_sign_contents, "c.zip"), "--key", verifier())
    assert code == EXIT_FAILED and f"- {CONTENTS}: the note carries no signature by {ORIGIN}" in out

    # Remaking it all with another key: forged.
    assert verify(capsys, re_signed(bundle, drop), "--key", verifier())[0] == EXIT_FORGED


def test_a_changed_case_reference_is_named(case, bundle, capsys):  # noqa: F811
    def rename(members):
        edit_manifest(members, lambda m: m.update(case="RS261112FFFFFF"))

    code, out = verify(capsys, tampered(bundle, rename), "--key", verifier())
    assert code == EXIT_FAILED
    assert (
        f"- manifest.json: names case RS261112FFFFFF, but the bundle was made and signed for case "
        f"{case.reference} — the case reference was changed"
    ) in out
    assert "案件编号被改动" in out
    assert verify(capsys, re_signed(bundle, rename), "--key", verifier())[0] == EXIT_FORGED


def test_an_extra_member_is_named(bundle, capsys):
    def add(members):
        members["files/statement-from-the-seller.pdf"] = b"%PDF-1.4 they agreed"

    code, out = verify(capsys, tampered(bundle, add), "--key", verifier())
    assert code == EXIT_FAILED
    assert (
        "- files/statement-from-the-seller.pdf: an extra member, not in the bundle's signed contents — "
        "it was added after the bundle was made"
    ) in out

    # A second member of a name already there, which unzip tools disagree about.
    with zipfile.ZipFile(bundle, "a") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("index.html", "<p>the buyer withdrew</p>")
    code, out = verify(capsys, bundle, "--key", verifier())
    assert code == EXIT_FAILED and "- index.html: the ZIP holds this member more than once" in out


def test_a_changed_copy_of_the_bundled_verifier_is_named(bundle, capsys):
    name = "verifier/reviewshield/proofs/bundle.py"

    def always_ok(members):
        members[name] = members[name].replace(b"return report.exit_code", b"return 0")

    code, out = verify(capsys, tampered(bundle, always_ok), "--key", verifier())
    assert code == EXIT_FAILED
    assert f"- {name}: the bundled verifier's code was changed" in out
    assert "do not run the copy in this bundle" in out


def damage(path, member):
    """Flip a byte in the middle of `member`'s compressed bytes, in place."""
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    data = bytearray(path.read_bytes())
    offset = info.header_offset
    start = offset + 30 + int.from_bytes(data[offset + 26 : offset + 28], "little")
    start += int.from_bytes(data[offset + 28 : offset + 30], "little")
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("member", ["photo", "verifier/reviewshield/proofs/merkle.py", "manifest.json"])
def test_a_member_with_damaged_compressed_bytes_is_named_never_a_traceback(bundle, member):
    if member == "photo":
        member = next(n for n, d in members_of(bundle).items() if d == PHOTO)
    damage(bundle, member)

    res = subprocess.run(
        [sys.executable, "-m", "reviewshield", "verify", str(bundle), "--key", verifier()],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )

    assert res.returncode == EXIT_FAILED, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and res.stderr == ""
    assert f"- {member}: its bytes in the ZIP are damaged and cannot be read" in res.stdout
    assert "数据已损坏" in res.stdout
