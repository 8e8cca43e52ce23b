#!/usr/bin/env python3
"""Record a small real TCP capture with a given mitmdump (used for tests/data/mitmproxy-9 and -10).

usage: python scripts/record_old_captures.py MITMDUMP OUT.flows [--tls | --errors]

Everything runs on 127.0.0.1: a TCP echo server and (with --tls) a TLS echo server run as threads
of this script; mitmdump runs as a subprocess in reverse:tcp (and reverse:tls) mode with a throwaway
confdir; python socket clients talk through it. A tiny addon (written to the work dir) marks the
flow that carries MARK-ME and comments the flow that carries COMMENT-ME. mitmdump is stopped with
SIGINT so that it writes every flow. Every wait is bounded.

Needs ``cryptography`` in the interpreter that runs this script (only for --tls).
"""

from __future__ import annotations

import argparse
import datetime
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ADDON = """
from mitmproxy import ctx


def tcp_message(flow):
    content = flow.messages[-1].content
    if b"MARK-ME" in content:
        flow.marked = ":default:"
    if b"COMMENT-ME" in content:
        flow.comment = "commented by the recording addon: gr\\u00fc\\u00dfe \\u2713"
    if b"KILL-ME" in content and flow.killable:
        flow.kill()
"""

TEXT_LINE = "UTF-8 text: grüße ✓ 中文 🍇\n".encode()

# One list of client messages per connection; every message waits for its echo.
PLAIN_CONNECTIONS = [
    [b"hello\n", b"\x00\xff", TEXT_LINE],
    [b"MARK-ME please\n", b"\x00\x01\x02\xfd\xfe\xff binary", b"COMMENT-ME\n"],
    [b"short\n", TEXT_LINE],
]
TLS_CONNECTIONS = [
    [b"tls hello\n", b"\x00\xff", TEXT_LINE],
]
# --errors: with connection_strategy=lazy, one flow whose upstream refuses the connection and
# one flow that the addon kills (the proxy may close it: no echo is awaited after KILL-ME).
ERROR_CONNECTIONS = [
    [b"hello\n", b"KILL-ME\n"],
]
DEAD_CONNECTIONS = [
    [b"nobody listens upstream\n"],
]
TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EchoServer(threading.Thread):
    """Answers every chunk it reads with b"ECHO:" + chunk, until the client closes."""

    def __init__(self, ctx: ssl.SSLContext | None = None) -> None:
        super().__init__(daemon=True)
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()
        self.sock.close()

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(TIMEOUT)
        try:
            if self.ctx is not None:
                conn = self.ctx.wrap_socket(conn, server_side=True)
            while data := conn.recv(65536):
                conn.sendall(b"ECHO:" + data)
        except (OSError, ssl.SSLError) as e:
            print(f"echo server: {e!r}", file=sys.stderr)
        finally:
            conn.close()


def make_cert(workdir: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for the upstream TLS echo server."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "echo.flowtui.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("echo.flowtui.test")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "echo-cert.pem", workdir / "echo-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def wait_listening(log: Path, count: int, proc: subprocess.Popen[bytes]) -> None:
    """Wait until mitmdump logged "listening at" for every mode (no probe connections: they
    would be recorded as flows)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mitmdump exited early with {proc.returncode}")
        if log.read_bytes().count(b"listening at") >= count:
            return
        time.sleep(0.2)
    raise RuntimeError("mitmdump did not start listening")


def recv_echo(conn: socket.socket, expected: int) -> bytes:
    got = b""
    while len(got) < expected:
        chunk = conn.recv(65536)
        if not chunk:
            raise RuntimeError(f"closed after {len(got)} of {expected} bytes")
        got += chunk
    return got


def converse(port: int, messages: list[bytes], tls: bool = False, lenient: bool = False) -> None:
    conn = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the proxy's certificate from a throwaway CA
        ctx.set_alpn_protocols(["flowtui/1", "other"])
        conn = ctx.wrap_socket(conn, server_hostname="echo.flowtui.test")
    with conn:
        for msg in messages:
            conn.sendall(msg)
            try:
                assert recv_echo(conn, len(msg) + 5) == b"ECHO:" + msg
            except (OSError, RuntimeError) as e:
                if not lenient:
                    raise
                print(f"as expected, no echo for {msg!r}: {e!r}")
                break
            time.sleep(0.05)  # keep one proxy read per client message
    time.sleep(0.3)  # let the proxy see the close before the next connection


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mitmdump", help="path of the mitmdump executable to record with")
    parser.add_argument("out", type=Path, help="capture file to write")
    parser.add_argument("--tls", action="store_true", help="also record one reverse:tls flow")
    parser.add_argument(
        "--errors",
        action="store_true",
        help="record only error flows instead: a refused upstream and a killed flow",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="flowtui-record-"))
    (workdir / "addon.py").write_text(ADDON, encoding="utf-8")
    plain = EchoServer()
    servers = [plain]
    listen_plain = free_port()
    modes = [f"reverse:tcp://127.0.0.1:{plain.port}@127.0.0.1:{listen_plain}"]
    listen_tls = 0
    listen_dead = 0
    if args.errors:
        listen_dead = free_port()
        modes.append(f"reverse:tcp://127.0.0.1:{free_port()}@127.0.0.1:{listen_dead}")
    if args.tls:
        cert, key = make_cert(workdir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.set_alpn_protocols(["flowtui/1"])
        tls = EchoServer(ctx)
        servers.append(tls)
        listen_tls = free_port()
        modes.append(f"reverse:tls://127.0.0.1:{tls.port}@127.0.0.1:{listen_tls}")
    for s in servers:
        s.start()

    args.out.unlink(missing_ok=True)
    cmd = [args.mitmdump, "--listen-host", "127.0.0.1"]
    for m in modes:
        cmd += ["--mode", m]
    cmd += ["-w", str(args.out), "--set", f"confdir={workdir / 'confdir'}"]
    cmd += ["-s", str(workdir / "addon.py")]
    # mitmproxy 9 picks the layer by sniffing even in reverse:tcp mode, and b"hello" looks like
    # an HTTP verb; tcp_hosts forces the raw TCP layer (harmless on 10, which forces it anyway).
    cmd += ["--set", "tcp_hosts=.*"]
    if args.tls:
        cmd += ["--set", "ssl_insecure=true"]
    if args.errors:
        cmd += ["--set", "connection_strategy=lazy"]
    print("command:", " ".join(cmd))
    log = (workdir / "mitmdump.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_listening(workdir / "mitmdump.log", len(modes), proc)
        if args.errors:
            for messages in ERROR_CONNECTIONS:
                converse(listen_plain, messages, lenient=True)
            for messages in DEAD_CONNECTIONS:
                converse(listen_dead, messages, lenient=True)
        for messages in [] if args.errors else PLAIN_CONNECTIONS:
            converse(listen_plain, messages)
        for messages in TLS_CONNECTIONS if args.tls else []:
            converse(listen_tls, messages, tls=True)
        time.sleep(1.0)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait(timeout=10)
        for s in servers:
            s.stop.set()
        for s in servers:
            s.join(timeout=5)
        log.close()
    print(f"mitmdump exit status: {rc}; log: {workdir / 'mitmdump.log'}")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
