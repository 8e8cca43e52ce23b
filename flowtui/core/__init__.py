"""The flow model: mitmproxy's public API (`Flow`, `TCPFlow`, `Connection`, ...) in flowtui.

Names, attributes, defaults, semantics and the `get_state()` layout follow mitmproxy 11
(flow format version 21), so a flow's state in flowtui equals mitmproxy's state for the
same flow. Nothing here does IO or imports the UI.
"""

from flowtui.core.certs import Cert
from flowtui.core.connection import (
    Address,
    Client,
    Connection,
    ConnectionState,
    Server,
    TlsVersion,
    TransportProtocol,
    format_address,
)
from flowtui.core.dns import DNSFlow, DNSMessage
from flowtui.core.exceptions import ControlException, FlowtuiException
from flowtui.core.flow import Error, Flow
from flowtui.core.headers import Headers
from flowtui.core.http import HTTPFlow, Message, Request, Response
from flowtui.core.mode_specs import ProxyMode
from flowtui.core.multidict import MultiDict, MultiDictView
from flowtui.core.serializable import Serializable, SerializableDataclass, State
from flowtui.core.tcp import TCPFlow, TCPMessage
from flowtui.core.udp import UDPFlow, UDPMessage
from flowtui.core.unknown import UnknownFlow
from flowtui.core.version import FLOW_FORMAT_VERSION
from flowtui.core.websocket import WebSocketData, WebSocketMessage

__all__ = [
    "FLOW_FORMAT_VERSION",
    "Address",
    "Cert",
    "Client",
    "Connection",
    "ConnectionState",
    "ControlException",
    "DNSFlow",
    "DNSMessage",
    "Error",
    "Flow",
    "FlowtuiException",
    "HTTPFlow",
    "Headers",
    "Message",
    "MultiDict",
    "MultiDictView",
    "ProxyMode",
    "Request",
    "Response",
    "Serializable",
    "SerializableDataclass",
    "Server",
    "State",
    "TCPFlow",
    "TCPMessage",
    "TlsVersion",
    "TransportProtocol",
    "UDPFlow",
    "UDPMessage",
    "UnknownFlow",
    "WebSocketData",
    "WebSocketMessage",
    "format_address",
]
