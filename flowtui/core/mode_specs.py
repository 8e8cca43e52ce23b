"""Proxy mode specifications (`regular`, `reverse:tcp://host:port@8080`, ...).

A client connection records the mode of the proxy server it came through; the state
is the full spec string, as mitmproxy stores it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from flowtui.core.serializable import Serializable, State

__all__ = ["MODES", "ProxyMode"]

MODES = frozenset(
    {
        "regular", "transparent", "upstream", "reverse", "socks5",
        "dns", "wireguard", "local", "tun", "osproxy",
    }
)  # fmt: skip
"""Mode names mitmproxy 11 knows."""


@dataclass(frozen=True)
class ProxyMode(Serializable):
    """A parsed proxy mode, as in `mitmproxy.proxy.mode_specs.ProxyMode`."""

    full_spec: str
    """The spec as given, e.g. `reverse:tls://127.0.0.1:19443@19444`."""
    type_name: str
    """The mode name, e.g. `reverse`."""
    data: str
    """What follows the mode name, e.g. `tls://127.0.0.1:19443`."""
    custom_listen_host: str | None
    """The listen host given after `@`, if any."""
    custom_listen_port: int | None
    """The listen port given after `@`, if any."""

    @classmethod
    def parse(cls, spec: str) -> Self:
        """Parse a mode spec; raises `ValueError` for an unknown mode or a bad port."""
        head, _, listen_at = spec.rpartition("@")
        if not head:
            head, listen_at = listen_at, ""
        mode, _, data = head.partition(":")
        host: str | None = None
        port: int | None = None
        if listen_at:
            if ":" in listen_at:
                host, _, port_str = listen_at.rpartition(":")
            else:
                port_str = listen_at
            try:
                port = int(port_str)
            except ValueError:
                raise ValueError(f"invalid port: {port_str}") from None
            if not 0 <= port <= 65535:
                raise ValueError(f"invalid port: {port_str}")
        if mode.lower() not in MODES:
            raise ValueError(f"unknown mode: {mode!r}")
        return cls(spec, mode.lower(), data, host, port)

    @classmethod
    def from_state(cls, state: State) -> Self:
        if not isinstance(state, str):
            raise ValueError(f"Invalid proxy mode: {state!r}")
        return cls.parse(state)

    def get_state(self) -> State:
        return self.full_spec

    def set_state(self, state: State) -> None:
        if state != self.full_spec:
            raise AttributeError("Proxy modes are immutable.")

    def __str__(self) -> str:
        return self.full_spec
