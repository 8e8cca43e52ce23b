"""The live socket: protocol, inspector client, recording relay and the mitmproxy addon.

Nothing here imports Textual; only `flowtui.live.mitmproxy_addon` imports mitmproxy.
"""
