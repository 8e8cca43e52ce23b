"""The live socket: protocol, inspector client, recording relay and the mitmproxy addon.

Nothing here imports Textual; only `flowtui.live.mitmproxy_addon` imports mitmproxy.
"""

from pathlib import Path

__all__ = ["addon_path"]


def addon_path() -> str:
    """The path to give ``mitmdump -s`` (``flowtui addon-path``); needs no mitmproxy."""
    return str(Path(__file__).resolve().parent / "mitmproxy_addon.py")
