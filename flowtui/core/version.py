"""The flow format version flowtui reads natively and writes (mitmproxy 11–13 write 21)."""

FLOW_FORMAT_VERSION = 21
"""Version of the flow state layout, as stored in every record's `version` key."""
