"""Indexing a large mitmproxy capture in worker processes.

Skimming tnetstring is pure Python and its records are independent, so on a machine
with several cores the indexing thread only frames records (one small `pread` per
record) and worker processes skim chunks of them into summaries; the thread assembles
the entries in file order. Workers handle the common case, the format-21 TCP, UDP and
HTTP records that `skim` and `summarize_skim` summarise exactly, and decode other records
in full; a record they cannot summarise comes back as None and the caller reads it the
sequential way, so `UnknownFlow`s and error messages are the same with workers as without.

The workers are plain child processes of this interpreter, given the parent's import
path and talking length-prefixed pickles over pipes, not `multiprocessing`: that would
start a resource tracker (which fails under Textual, whose stderr has no file
descriptor), import the program's main module again in every worker, and let workers
write to the terminal the UI draws on. A worker's stderr goes nowhere; if one fails,
the caller indexes on alone.
"""

from __future__ import annotations

import gc
import itertools
import os
import pickle
import struct
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from flowtui.core import UnknownFlow
from flowtui.core.summary import FlowSummary, summarize, summarize_skim
from flowtui.io import mitmproxy_format
from flowtui.io.detect import CaptureFormat
from flowtui.io.reader import flow_from_record
from flowtui.io.records import RawRecord
from flowtui.io.skim import skim
from flowtui.io.tnetstring import MAX_PREFIX_DIGITS, TNetStringError

__all__ = [
    "CHUNK_BYTES",
    "CHUNK_RECORDS",
    "Frame",
    "IndexPool",
    "PoolError",
    "chunked",
    "frames",
    "serve",
    "skim_chunk",
    "usable_cpus",
]

CHUNK_RECORDS = 500
"""Records per task: big enough that pickling is a small part, small enough that the
first results come back at once."""
CHUNK_BYTES = 16 << 20
"""Bytes per task at most (a worker reads its chunk at once), unless one record alone is
bigger: memory in flight stays a few chunks, whatever the records' sizes."""

Frame = tuple[int, int]
"""A record's (start, end) byte offsets."""
Skimmed = tuple[str, FlowSummary] | None
"""A worker's answer for one record: its id and summary, or None (read it yourself)."""


def usable_cpus() -> int:
    """How many CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def frames(fd: int, offset: int, size: int) -> Iterator[Frame]:
    """The (start, end) of each well-framed record from `offset` up to `size`, reading
    only length prefixes; stops quietly at the first frame that looks wrong (bad prefix,
    past `size`), which the caller then reads the careful way for a precise error."""
    pread = os.pread
    while offset < size:
        head = pread(fd, MAX_PREFIX_DIGITS + 1, offset)
        colon = head.find(b":")
        digits = head[:colon]
        if colon < 1 or not digits.isdigit() or (colon > 1 and head[0] == 0x30):
            return
        end = offset + colon + int(digits) + 2  # prefix, colon, payload, tag
        if end > size:
            return
        yield offset, end
        offset = end


_open_files: dict[str, int] = {}


def skim_chunk(source: str, start: int, ends: list[int]) -> list[Skimmed]:
    """Summaries of the contiguous records from `start` to each of `ends` (in a worker).

    A record that does not skim (another flow type) is decoded and summarised in full;
    anything unusual (a short read, damage, an unreadable record) is None.
    """
    fd = _open_files.get(source)
    if fd is None:
        fd = _open_files[source] = os.open(source, os.O_RDONLY)
    data = os.pread(fd, ends[-1] - start, start)
    out: list[Skimmed] = []
    prev = start
    for end in ends:
        whole = end - start <= len(data)
        out.append(_summarise(data, prev - start, end - start, prev) if whole else None)
        prev = end
    return out


def _summarise(data: bytes, start: int, stop: int, offset: int) -> Skimmed:
    """The record `data[start:stop]` (at `offset` in the file), skimmed in place."""
    try:
        skimmed = skim(data, start, stop)
    except (TNetStringError, RecursionError, IndexError):
        skimmed = None
    summary = summarize_skim(skimmed)
    if summary is not None and isinstance(flow_id := skimmed.get("id"), str):  # type: ignore[union-attr]
        return flow_id, summary
    record = data[start:stop]
    try:
        raw = RawRecord(0, offset, record, mitmproxy_format.decode_record, offset)
        flow = flow_from_record(raw, None, CaptureFormat.MITMPROXY)
    except Exception:  # the indexing thread reads it again and reports it precisely
        return None
    if isinstance(flow, UnknownFlow):
        return None
    return flow.id, summarize(flow)


_FRAME = struct.Struct(">I")


def _send(pipe: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_FRAME.pack(len(data)) + data)
    pipe.flush()


def _receive(pipe: IO[bytes]) -> Any:
    """The next value, or EOFError when the other side is gone."""
    head = pipe.read(_FRAME.size)
    if len(head) < _FRAME.size:
        raise EOFError
    (length,) = _FRAME.unpack(head)
    data = pipe.read(length)
    if len(data) < length:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - from our own worker process


class PoolError(Exception):
    """The worker processes failed (could not start, died): index without them."""


class IndexPool:
    """Worker processes skimming chunks of one capture; results come back in order."""

    def __init__(self, fd: int, name: str, workers: int) -> None:
        self.source = _shared_path(fd, name)
        self._procs: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(workers):
                proc = subprocess.Popen(  # noqa: S603 - this interpreter, our own module
                    _worker_command(),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
                self._procs.append(proc)
                assert proc.stdin is not None
                _send(proc.stdin, sys.path)  # so it imports exactly the code we run
        except BaseException:
            self.close()
            raise

    def skim(self, chunks: Iterator[list[Frame]]) -> Iterator[tuple[list[Frame], list[Skimmed]]]:
        """Each chunk with its workers' answers, in the order given; keeps two chunks per
        worker in flight. Raises `PoolError` if a worker fails."""
        pending: deque[tuple[list[Frame], subprocess.Popen[bytes]]] = deque()
        limit = 2 * len(self._procs)
        turn = 0
        try:
            for chunk in chunks:
                proc = self._procs[turn % len(self._procs)]
                turn += 1
                assert proc.stdin is not None
                _send(proc.stdin, (self.source, chunk[0][0], [end for _, end in chunk]))
                pending.append((chunk, proc))
                if len(pending) >= limit:
                    done, proc = pending.popleft()
                    yield done, self._answer(done, proc)
            while pending:
                done, proc = pending.popleft()
                yield done, self._answer(done, proc)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as e:
            raise PoolError(f"index worker failed: {type(e).__name__}: {e}") from e

    @staticmethod
    def _answer(chunk: list[Frame], proc: subprocess.Popen[bytes]) -> list[Skimmed]:
        assert proc.stdout is not None
        answers = _receive(proc.stdout)
        if not isinstance(answers, list) or len(answers) != len(chunk):
            raise ValueError("answer does not fit its chunk")
        return answers

    def close(self) -> None:
        """Stop the workers at once (they hold nothing worth finishing)."""
        for proc in self._procs:
            proc.kill()
        for proc in self._procs:
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    pipe.close()
            proc.wait()
        self._procs = []


_BOOT = (
    "import pickle, struct, sys\n"
    "n = struct.unpack('>I', sys.stdin.buffer.read(4))[0]\n"
    "sys.path[:] = pickle.loads(sys.stdin.buffer.read(n))\n"
    "from flowtui.io.index_pool import serve\n"
    "serve(sys.stdin.buffer, sys.stdout.buffer)\n"
)
"""A worker's first lines: take the parent's import path, then serve chunk requests."""


def _worker_command() -> list[str]:
    """How a worker is started: this interpreter, isolated from the environment (no
    PYTHON* variables, no user site), importing what the parent imports."""
    return [sys.executable, "-I", "-c", _BOOT]


def _shared_path(fd: int, name: str) -> str:
    """A path to exactly the file open as `fd` (even if `name` was replaced since)."""
    proc = f"/proc/{os.getpid()}/fd/{fd}"
    return proc if Path(proc).exists() else name


def chunked(items: Iterator[Frame], size: int | None = None) -> Iterator[list[Frame]]:
    """`items` in lists of `size` (default `CHUNK_RECORDS`) frames spanning at most
    `CHUNK_BYTES` (or a single frame that is larger)."""
    size = size or CHUNK_RECORDS
    chunk: list[Frame] = []
    for item in items:
        if chunk and (len(chunk) >= size or item[1] - chunk[0][0] > CHUNK_BYTES):
            yield chunk
            chunk = []
        chunk.append(item)
    if chunk:
        yield chunk


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """A worker's loop: a chunk request in, its answers out, until the input ends.

    Skimming makes no reference cycles, so the cyclic collector only costs time here
    (about 4 %): it runs once every `_COLLECT_EVERY` chunks instead of on allocations."""
    gc.disable()
    for n in itertools.count(1):
        try:
            source, start, ends = _receive(requests)
        except EOFError:
            return
        _send(answers, skim_chunk(source, start, ends))
        if n % _COLLECT_EVERY == 0:
            gc.collect()


_COLLECT_EVERY = 50
