"""flowtui: a terminal UI for inspecting and steering network flows.

The packages are split by role: `flowtui.core` is the flow model (mirroring
mitmproxy's public API), `flowtui.io` reads and writes capture files,
`flowtui.live` talks to a running proxy, and `flowtui.ui` is the Textual app.
Only `flowtui.ui` imports Textual.
"""

__version__ = "0.1.0.dev0"
