"""pcap (placeholder until the packet writer lands)."""

from __future__ import annotations

from collections.abc import Sequence

from flowtui.core import Flow
from flowtui.export.errors import ExportError

__all__ = ["pcap_bytes"]


def pcap_bytes(flows: Sequence[Flow]) -> bytes:
    raise ExportError("pcap export is not written yet")
