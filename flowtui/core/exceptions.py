"""Exceptions of the flow model, named as in mitmproxy so users' code carries over."""


class FlowtuiException(Exception):
    """Base class of flowtui's own exceptions."""


class ControlException(FlowtuiException):
    """A flow control action (kill, intercept, ...) is not possible in the flow's state."""
