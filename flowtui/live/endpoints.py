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
    "TokenFileError",
    "check_token",
    "default_socket_path",
    "load_or_create_token",
    "parse_endpoint",
    "prepare_socket_path",
    "read_token_file",
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


class TokenFileError(ValueError):
    """A token file that must not be used (shared, another user's, empty), and why."""


MAX_TOKEN_FILE = 64 * 1024
"""A token is a line of text; a bigger "token file" is refused, not read whole."""


def read_token_file(path: str | Path) -> str:
    """The token in ``path``, refused (`TokenFileError`) as ssh refuses a private key
    when another user owns the file or could read or change it: anyone who can read the
    token can steer the proxy. `OSError` if it cannot be opened."""
    # O_NONBLOCK: a FIFO put in its place must not hang the open; it is refused below.
    fd = os.open(path, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)  # the file opened, not whatever the path names by now
        if not stat.S_ISREG(info.st_mode):
            raise TokenFileError(f"token file {path} is not a regular file")
        if info.st_uid != os.geteuid():
            raise TokenFileError(
                f"token file {path} belongs to another user (uid {info.st_uid}); use a "
                f"token file of your own (or, as its owner, `chown {os.geteuid()} {path}`)"
            )
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise TokenFileError(
                f"token file {path} is accessible by other users (mode {mode:04o}); "
                f"run `chmod 600 {path}`"
            )
        data = f.read(MAX_TOKEN_FILE + 1)
    if len(data) > MAX_TOKEN_FILE:
        raise TokenFileError(f"token file {path} is too large to be a token file")
    token = data.decode("utf-8", errors="replace").strip()
    if not token:
        raise TokenFileError(f"token file {path} is empty")
    return token


def load_or_create_token(path: str) -> str:
    """The token in ``path`` (checked as `read_token_file` does); if there is no such
    file, a new random token is written there with mode 0600.

    The new file appears whole or not at all (written under a temporary name, then
    linked into place, which fails rather than replace a file another process made
    meanwhile; that one's token is used then), so nobody ever reads it half written.
    """
    target = Path(path)
    try:
        return read_token_file(target)
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".new")
    try:  # mkstemp makes the file 0600 and ours whatever the umask
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(token + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temp, target)
        except FileExistsError:
            return read_token_file(target)
    finally:
        Path(temp).unlink()
    return token


def check_token(expected: str | None, given: object) -> bool:
    """Constant-time token comparison; no expected token means anything is accepted."""
    if expected is None:
        return True
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
