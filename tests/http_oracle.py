"""Shared helpers of the HTTP and DNS differential tests: every HTTP or DNS flow of the
real captures, read by flowtui and by mitmproxy 11, and a way to observe any object so
that flowtui's and mitmproxy's results compare equal exactly when they are the same."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

from truth import DATA

from flowtui.core import Flow, HTTPFlow
from flowtui.io import read_flows

CAPTURES = sorted(DATA.glob("*.flows"))


@functools.cache
def flow_pairs(kind: str) -> list[tuple[str, Any, Any]]:
    """Every flow of type `kind` (`http`, `dns`) in the real captures, as read by
    flowtui and by mitmproxy: (`capture#index`, ours, theirs)."""
    from mitmproxy import io as mio

    out = []
    for path in CAPTURES:
        ours = read_flows(path)
        with path.open("rb") as f:
            theirs = list(mio.FlowReader(f).stream())
        assert len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            if b.type == kind:
                assert a.type == kind, (path.name, i, a)
                out.append((f"{path.stem}#{i}", a, b))
    return out


def pair_copy(kind: str, name: str) -> tuple[Any, Any]:
    """Fresh copies (free to change) of flowtui's and mitmproxy's flow `name`."""
    from mitmproxy import flow as mflow

    for n, ours, theirs in flow_pairs(kind):
        if n == name:
            mine = Flow.from_state(copy.deepcopy(ours.get_state()))
            assert mine.type == kind
            return mine, mflow.Flow.from_state(copy.deepcopy(theirs.get_state()))
    raise KeyError(name)


def http_pair_ids() -> list[str]:
    return [name for name, _, _ in flow_pairs("http")]


def http_pair(name: str) -> tuple[HTTPFlow, Any]:
    """Fresh copies (free to change) of flowtui's and mitmproxy's HTTP flow `name`."""
    ours, theirs = pair_copy("http", name)
    assert isinstance(ours, HTTPFlow)
    return ours, theirs


def plain(value: Any) -> Any:
    """`value` as plain data: multidicts as their fields, tuples as lists, enums as ints."""
    if hasattr(value, "fields") and not isinstance(value, type):
        return ["multidict", plain(value.fields)]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return value


def observe(fn: Callable[[], Any]) -> Any:
    """What calling `fn` gives: its plain result, or the kind of exception it raised."""
    try:
        return plain(fn())
    except Exception as e:  # the exception type is part of the behaviour compared
        kind = type(e)
        if issubclass(kind, ValueError) and kind.__module__.startswith("json"):
            return ["raises", "JSONDecodeError"]
        return ["raises", kind.__name__]


def state(flow: Any) -> Any:
    """A flow's state with tuples as lists (to compare with each other)."""
    return plain(flow.get_state())
