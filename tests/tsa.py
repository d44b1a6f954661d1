"""A throwaway RFC 3161 time-stamping authority for tests: OpenSSL's `ts -reply` behind http.server.

`Tsa(folder)` makes a root CA and a TSA certificate (extendedKeyUsage critical timeStamping) with
the `openssl` command; `start()` serves POSTed queries on 127.0.0.1 at a free port. The peer is the
real OpenSSL responder; `mode` only makes it misbehave the way real TSAs can:

    "ok"           OpenSSL's answer to the query
    "garbage"      200 OK with bytes that are no timestamp
    "other_data"   a genuine, signed timestamp — of other data
    "other_nonce"  a genuine, signed timestamp of the same data, answering another request (nonce)
    "slow"         OpenSSL's answer, after `delay` seconds
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CONFIG = """
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_config
[tsa_config]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""

# In a TimeStampReq: the SHA-256 OID, an optional NULL, then the 32-byte OCTET STRING.
SHA256_IMPRINT = re.compile(
    rb"\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01(?:\x05\x00)?\x04\x20(.{32})", re.S
)


def openssl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=True)


def make_root(folder: Path, name: str, common_name: str) -> Path:
    """A self-signed CA certificate (EC P-256) in folder/<name>.crt, its key beside it."""
    if not (folder / "openssl.cnf").exists():
        (folder / "openssl.cnf").write_text(CONFIG.format(dir=folder))
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2", "-subj", f"/CN={common_name}",
        "-config", "openssl.cnf", "-extensions", "root_ext", cwd=folder,
    )  # fmt: skip
    return folder / f"{name}.crt"


class Tsa:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "openssl.cnf").write_text(CONFIG.format(dir=folder))  # [tsa]: how `ts -reply` signs
        (folder / "serial").write_text("01\n")
        self.ca_file = make_root(folder, "root", "Test TSA Root")
        openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA", "-config", "openssl.cnf",
            cwd=folder,
        )  # fmt: skip
        openssl(
            "x509", "-req", "-in", "tsa.csr", "-CA", self.ca_file.name, "-CAkey", "root.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "openssl.cnf",
            "-extensions", "tsa_ext",
            cwd=folder,
        )  # fmt: skip
        self.mode = "ok"
        self.delay = 0.0
        self.queries: list[bytes] = []
        self._lock = threading.Lock()  # one `openssl ts -reply` at a time: they share the serial file
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tsr"

    def reply(self, query: bytes) -> bytes:
        """OpenSSL's DER TimeStampResp to a DER TimeStampReq."""
        with self._lock:
            n = len(self.queries)
            (self.folder / f"q{n}.tsq").write_bytes(query)
            openssl(
                "ts", "-reply", "-config", "openssl.cnf", "-queryfile", f"q{n}.tsq", "-out", f"r{n}.tsr",
                cwd=self.folder,
            )  # fmt: skip
            return (self.folder / f"r{n}.tsr").read_bytes()

    def query_for_digest(self, digest: bytes) -> bytes:
        """A query OpenSSL builds itself (its own random nonce) for a SHA-256 digest."""
        out = self.folder / "own.tsq"
        openssl(
            "ts", "-query", "-digest", digest.hex(), "-sha256", "-cert", "-out", str(out), cwd=self.folder
        )
        return out.read_bytes()

    def answer(self, query: bytes) -> bytes:
        self.queries.append(query)
        if self.mode == "garbage":
            return b"<html>Service temporarily unavailable</html>"
        if self.mode == "other_data":
            return self.reply(self.query_for_digest(bytes(32)))
        if self.mode == "other_nonce":
            found = SHA256_IMPRINT.search(query)
            assert found, query.hex()
            return self.reply(self.query_for_digest(found.group(1)))
        if self.mode == "slow":
            time.sleep(self.delay)
        return self.reply(query)

    def start(self) -> Tsa:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = tsa.answer(query)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        # Port 0 picks a free port the first time; a restart ("the TSA is back") takes the same one.
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Take the TSA off the network: connections are refused until `start()`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
