"""Writing flows: mitmproxy's format (``FlowWriter``), flowtui's format, atomic saves."""

from __future__ import annotations

import enum
import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from flowtui import __version__
from flowtui.core import FLOW_FORMAT_VERSION, Flow
from flowtui.io.errors import FlowReadException, FlowWriteException
from flowtui.io.lazy import RecordRef
from flowtui.io.mitmproxy_format import MitmproxyStateWriter
from flowtui.io.native_format import NativeStateWriter, read_header
from flowtui.io.source import ByteSource
from flowtui.io.summary import index_entry, summarize_state

__all__ = [
    "FlowWriter",
    "NativeFlowWriter",
    "SaveFormat",
    "append_flows",
    "atomic_write",
    "format_for_path",
    "save_flows",
    "suffix_problem",
]


class Record(Protocol):
    """A flow left in its capture file (a store's lazy flow): decoded to be written,
    or, a `RecordRef` of the format written, copied byte for byte."""

    def load(self) -> Flow:
        """Decode a fresh Flow (may raise `FlowReadException`)."""
        ...


class SaveFormat(enum.Enum):
    """The formats flowtui writes."""

    MITMPROXY = "mitmproxy"
    FLOWTUI = "flowtui"


MITMPROXY_SUFFIXES = frozenset({".flows", ".mitm", ".dump"})
"""File name suffixes that mean "mitmproxy format" when no format is given."""


FLOWTUI_SUFFIXES = frozenset({".flowtui", ".ftui"})
"""File name suffixes of flowtui's format."""


FOREIGN_SUFFIXES = frozenset(
    {
        ".json", ".jsonl", ".ndjson", ".har", ".txt", ".text", ".log", ".csv", ".tsv",
        ".xml", ".html", ".htm", ".yaml", ".yml", ".md", ".pcap", ".pcapng", ".cap",
        ".gz", ".zip", ".bz2", ".xz", ".zst",
    }
)  # fmt: skip
"""Suffixes that promise another format: a binary flowtui file under such a name would
mislead whoever opens it, so `convert` refuses them unless `--format` is given."""


def suffix_problem(path: str | Path) -> str | None:
    """Why the name's suffix promises a format flowtui does not write (`x.json`), or
    None when it names one of flowtui's formats, none at all (`out`, `/dev/null`) or one
    that promises nothing in particular (`x.capture`, written in flowtui's format)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FOREIGN_SUFFIXES:
        return None
    return (
        f"the suffix {suffix!r} names a format flowtui does not write: use .flows, .mitm or"
        " .dump (mitmproxy's format) or .flowtui (flowtui's), or give --format"
        " mitmproxy|flowtui (for JSON Lines: flowtui dump --json)"
    )


def format_for_path(path: str | Path) -> SaveFormat:
    """The default format for a target: mitmproxy for .flows/.mitm/.dump, else flowtui's."""
    if Path(path).suffix.lower() in MITMPROXY_SUFFIXES:
        return SaveFormat.MITMPROXY
    return SaveFormat.FLOWTUI


class FlowWriter:
    """Writes flows in mitmproxy's format, as ``mitmproxy.io.FlowWriter`` does."""

    def __init__(self, fileobj: BinaryIO) -> None:
        self.fileobj = fileobj
        self._writer = MitmproxyStateWriter(fileobj)

    def add(self, flow: Flow) -> None:
        """Append one flow (its record is complete before it is written)."""
        self._writer.add_state(flow.get_state())


class NativeFlowWriter:
    """Writes flows in flowtui's format; ``header=False`` appends to an existing capture."""

    def __init__(self, fileobj: BinaryIO, *, header: bool = True) -> None:
        self.fileobj = fileobj
        meta = {"writer": f"flowtui {__version__}", "flow_format_version": FLOW_FORMAT_VERSION}
        self._writer = NativeStateWriter(fileobj, header=header, meta=meta)

    def add(self, flow: Flow) -> None:
        """Append one flow with its summary (and the list's summary of it, `"ix"`)."""
        state = flow.get_state()
        summary = summarize_state(state)
        entry = index_entry(flow)
        if entry is not None:
            summary["ix"] = entry
        self._writer.add_state(state, summary)


def _writer_for(
    fmt: SaveFormat, fileobj: BinaryIO, *, header: bool = True
) -> Callable[[Flow], None]:
    """The ``add`` method of a writer of ``fmt``."""
    if fmt is SaveFormat.MITMPROXY:
        return FlowWriter(fileobj).add
    return NativeFlowWriter(fileobj, header=header).add


def _write_all(
    add: Callable[[Flow], None],
    flows: Iterable[Flow | Record],
    path: str,
    copy: tuple[BinaryIO, SaveFormat] | None = None,
) -> int:
    """Add every flow; a flow that does not serialise becomes a FlowWriteException.

    With `copy` (the file and its format), a lazy flow's record of that same format is
    copied byte for byte; other records are decoded and encoded afresh.
    """
    count = 0
    for count, flow in enumerate(flows, 1):
        if not isinstance(flow, Flow):
            if (
                copy is not None
                and isinstance(flow, RecordRef)
                and flow.file.format.value == copy[1].value
            ):
                try:
                    copy[0].write(flow.verified_raw())
                except FlowReadException as e:
                    raise FlowWriteException(_changed_source(e), path=path) from e
                continue
            try:
                flow = flow.load()
            except FlowReadException as e:
                raise FlowWriteException(
                    f"cannot read flow #{count} back: {e}", path=path, index=count - 1
                ) from e
        try:
            add(flow)
        except (ValueError, TypeError, OverflowError) as e:
            raise FlowWriteException(
                f"cannot serialise flow {getattr(flow, 'id', '?')}: {e}", path=path, index=count - 1
            ) from e
    return count


def _changed_source(e: FlowReadException) -> str:
    """Why a record could not be copied, naming its file, record and byte."""
    where = f"record #{(e.index or 0) + 1} at byte {e.offset}"
    return (
        f"{e.path} changed on disk since it was opened: {where} no longer matches "
        f"({e.reason}); nothing was saved"
    )


def save_flows(
    path: str | Path,
    flows: Iterable[Flow | Record],
    format: SaveFormat | str | None = None,
) -> int:
    """Write ``flows`` to ``path`` atomically; return how many were written.

    ``format`` defaults to ``format_for_path(path)``. On any failure the previous file at
    ``path`` is untouched and no temporary file is left behind.
    """
    fmt = SaveFormat(format) if format is not None else format_for_path(path)
    written = 0

    def write(fileobj: BinaryIO) -> None:
        nonlocal written
        written = _write_all(_writer_for(fmt, fileobj), flows, str(path), (fileobj, fmt))

    atomic_write(path, write)
    return written


def append_flows(path: str | Path, flows: Iterable[Flow]) -> int:
    """Append flows to a capture in its own format (creating a flowtui one if absent).

    Appending is not atomic: a crash can leave a truncated last record, which readers
    report after delivering every earlier flow.
    """
    p = Path(path)
    try:
        with p.open("a+b") as fileobj:
            fileobj.seek(0)
            head = fileobj.read(1)
            if not head:
                fmt = format_for_path(p)
                header = True
            elif head.isdigit():
                fmt, header = SaveFormat.MITMPROXY, False
            else:
                fileobj.seek(0)
                try:
                    read_header(ByteSource(fileobj), str(path))
                except FlowReadException as e:
                    raise FlowWriteException(f"cannot append: {e.reason}", path=str(path)) from e
                fmt, header = SaveFormat.FLOWTUI, False
            fileobj.seek(0, os.SEEK_END)
            count = _write_all(_writer_for(fmt, fileobj, header=header), flows, str(path))
            fileobj.flush()
            os.fsync(fileobj.fileno())
            return count
    except OSError as e:
        raise FlowWriteException(f"cannot append: {e.strerror or e}", path=str(path)) from e


def atomic_write(path: str | Path, write: Callable[[BinaryIO], Any]) -> None:
    """Replace ``path`` with what ``write`` produces, or leave it untouched on failure.

    Writes a temporary file in the same directory, flushes and fsyncs it, renames it over
    the target and fsyncs the directory. A symlink target is followed (the link stays).
    The temporary file's name carries the writer's pid, so the temporary files of a writer
    that was killed are removed by the next save to the same target.

    Only a regular file (or a new name) is replaced: a character device (``/dev/null``,
    a terminal) or a FIFO is written to as a stream, in place and not atomically (what
    was written before a failure stays written); a directory, socket or block device is
    refused. Renaming over those would put a regular file where the device or pipe was.
    """
    if "\x00" in str(path):
        raise FlowWriteException("invalid file name (it holds a NUL byte)", path=str(path))
    if _is_stream(Path(path), str(path)):  # the path as given: /dev/stdout may be a pipe
        _stream_write(Path(path), write, str(path))
        return
    target = Path(os.path.realpath(path))
    directory = target.parent
    _remove_stale_temps(target)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=directory
        )
    except OSError as e:
        raise FlowWriteException(
            f"cannot create a file in {directory}: {e.strerror or e}", path=str(path)
        ) from e
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fileobj:
            write(fileobj)
            fileobj.flush()
            os.fsync(fileobj.fileno())
        tmp.chmod(_mode_for(target))
        if _is_stream(target, str(path)):  # made a device or FIFO meanwhile: not replaced
            raise FlowWriteException("is no longer a regular file", path=str(path))
        tmp.replace(target)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise FlowWriteException(f"cannot save: {e.strerror or e}", path=str(path)) from e
        raise
    _fsync_directory(directory)


def _is_stream(target: Path, name: str) -> bool:
    """True for a character device or FIFO (written as a stream), False for a regular
    file or a new name; FlowWriteException for what is never written to."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return False
    except OSError as e:
        raise FlowWriteException(f"cannot save: {e.strerror or e}", path=name) from e
    if stat.S_ISREG(mode):
        return False
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    what = (
        "a directory"
        if stat.S_ISDIR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a regular file"
    )
    raise FlowWriteException(
        f"is {what}: only a regular file, a new name, a character device or a FIFO can be written",
        path=name,
    )


def _stream_write(target: Path, write: Callable[[BinaryIO], Any], name: str) -> None:
    """Write to a character device or FIFO in place (opening a FIFO waits for its
    reader); never created, truncated or replaced."""
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        raise FlowWriteException(f"cannot write: {e.strerror or e}", path=name) from e
    try:
        with os.fdopen(fd, "wb") as fileobj:
            write(fileobj)
            fileobj.flush()
    except OSError as e:
        raise FlowWriteException(
            f"cannot write (written as a stream: what went before stays): {e.strerror or e}",
            path=name,
        ) from e


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files left next to ``target`` by saves whose process is gone."""
    prefix = f".{target.name}."
    try:
        names = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for tmp in names:
        pid = tmp.name[len(prefix) :].split(".", 1)[0]
        if tmp.suffix == ".tmp" and pid.isdigit() and not _alive(int(pid)):
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                return


def _alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (a process of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _mode_for(target: Path) -> int:
    """The permission bits for the new file: the old file's, else 0o666 minus the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; filesystems that cannot fsync a directory are tolerated."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
