"""Capture files: mitmproxy's tnetstring format (read and write, formats 18–21) and
flowtui's own msgpack format, detected from the content.

The names follow mitmproxy's ``mitmproxy.io``: ``FlowReader(f).stream()`` and
``FlowWriter(f).add(flow)``. Nothing here imports the UI.
"""

from flowtui.io.detect import CaptureFormat, detect_format
from flowtui.io.errors import FlowReadException, FlowWriteException
from flowtui.io.reader import FlowReader, read_flows
from flowtui.io.records import RawRecord
from flowtui.io.summary import summarize_state
from flowtui.io.writer import (
    FlowWriter,
    NativeFlowWriter,
    SaveFormat,
    append_flows,
    atomic_write,
    format_for_path,
    save_flows,
    suffix_problem,
)

__all__ = [
    "CaptureFormat",
    "FlowReadException",
    "FlowReader",
    "FlowWriteException",
    "FlowWriter",
    "NativeFlowWriter",
    "RawRecord",
    "SaveFormat",
    "append_flows",
    "atomic_write",
    "detect_format",
    "format_for_path",
    "read_flows",
    "save_flows",
    "suffix_problem",
    "summarize_state",
]
