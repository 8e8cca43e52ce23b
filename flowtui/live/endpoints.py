"""Where the live socket listens: parsing ``unix:/path`` and ``tcp://host:port``, the
private socket directory, and the token file.

Why separate: the relay, the mitmproxy addon and the client all take the same address
strings, and the file-permission rules (0700 directory, 0600 socket and token) must be
the same on every path that creates them.
"""

from __future__ import annotations

import hmac
import os
import secrets
import socket
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Endpoint",
    "check_token",
    "default_socket_path",
    "load_or_create_token",
    "parse_endpoint",
    "prepare_socket_path",
]


@dataclass(frozen=True)
class Endpoint:
    """A parsed listen/connect address."""

    kind: str
    """``"unix"`` or ``"tcp"``."""
    path: str = ""
    """The socket path (unix)."""
    host: str = ""
    """The host (tcp)."""
    port: int = 0
    """The port (tcp)."""

    def __str__(self) -> str:
        return f"unix:{self.path}" if self.kind == "unix" else f"tcp://{self.host}:{self.port}"


def parse_endpoint(spec: str) -> Endpoint:
    """``unix:/path``, a bare path, or ``tcp://host:port``; `ValueError` otherwise."""
    if spec.startswith("tcp://"):
        host, sep, port = spec[len("tcp://") :].rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise ValueError(f"invalid TCP address {spec!r}: expected tcp://HOST:PORT")
        return Endpoint("tcp", host=host.strip("[]"), port=int(port))
    path = spec.removeprefix("unix:")
    if not path:
        raise ValueError("empty socket path")
    return Endpoint("unix", path=path)


def default_socket_path() -> str:
    """``$XDG_RUNTIME_DIR/flowtui/proxy-PID.sock``, else under a per-user temp dir."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) if runtime else Path(tempfile.gettempdir()) / f"flowtui-{os.getuid()}"
    if runtime:
        base = base / "flowtui"
    return str(base / f"proxy-{os.getpid()}.sock")


def prepare_socket_path(path: str) -> None:
    """Make the socket's directory private (0700, ours) and clear a stale socket file.

    Raises `OSError` with a clear message if the directory is shared or the socket is
    in use by a running proxy.
    """
    target = Path(path)
    directory = target.parent
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True)
    info = directory.stat()
    if info.st_uid != os.getuid():
        raise PermissionError(f"{directory} belongs to another user; choose another --socket")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise PermissionError(
            f"{directory} is reachable by other users (mode {stat.S_IMODE(info.st_mode):o}); "
            "use a directory with mode 0700"
        )
    if target.exists() or target.is_symlink():
        if not stat.S_ISSOCK(target.lstat().st_mode):
            raise FileExistsError(f"{target} exists and is not a socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(target))
        except OSError:
            target.unlink()  # stale socket from a proxy that died
        else:
            raise FileExistsError(f"{target} is in use by another proxy")
        finally:
            probe.close()


def load_or_create_token(path: str) -> str:
    """The token in ``path``; a new random one is written there (mode 0600) if absent."""
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = target.read_text(encoding="utf-8").strip()
        if not token:
            raise ValueError(f"token file {target} is empty") from None
        return token
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(token + "\n")
    return token


def check_token(expected: str | None, given: object) -> bool:
    """Constant-time token comparison; no expected token means anything is accepted."""
    if expected is None:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
