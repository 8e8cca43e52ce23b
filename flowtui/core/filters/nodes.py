"""The building blocks of a parsed filter: combinators and the flow-wide operators.

Each node is a callable `flow -> bool` with a `needs_content` flag; a tree of them is
what `parse()` builds. A node that summaries can answer also gives the same test on one
summary (`on_summary`) and on a whole table of them (`on_columns`, see `columns.py`).
Operators that look at one protocol's data live in `content.py`, `http.py` and `tls.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flowtui.core import DNSFlow, Flow, HTTPFlow, TCPFlow, UDPFlow
from flowtui.core.filters.columns import ColumnTest, FieldTest, SummaryColumns
from flowtui.core.summary import FlowSummary
from flowtui.core.summary import address_texts as address_texts

SummaryTest = Callable[[FlowSummary], bool]
RawTest = Callable[[FlowSummary, bytes], bool]
T = TypeVar("T")

__all__ = [
    "And",
    "Const",
    "Node",
    "Not",
    "Or",
    "Predicate",
    "TextRegex",
    "address_texts",
    "one_text",
]


class Node:
    """A compiled piece of a filter expression."""

    needs_content = False
    """True if matching reads message content (slow on big flows: run it off the UI thread)."""

    def __call__(self, flow: Flow) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def on_summary(self) -> SummaryTest | None:
        """The same test on a flow's summary, or None if the summary lacks what it needs
        (then the flow is decoded: content, HTTP details, certificates)."""
        return None

    def on_columns(self) -> ColumnTest | None:
        """The same test over a table of summaries at once (the mask of the rows that
        match), or None when there is no summary test. A `FieldTest` reads its column
        and tests each distinct value once; any other summary test is called per row."""
        test = self.on_summary()
        if test is None:
            return None
        if isinstance(test, FieldTest):
            field, value_test = test.field, test.test
            return lambda table: table.field_mask(field, value_test)
        return lambda table: table.each_mask(test)

    def may_match(self) -> RawTest:
        """A quick test on a flow's summary and raw record bytes that is False only if
        the flow cannot match (so a content filter need not decode most records)."""
        test = self.on_summary()
        if test is None:
            return lambda _s, _raw: True
        return lambda s, _raw: test(s)

    def dump(self) -> str:
        """A compact description of the tree, for tests and debugging."""
        return type(self).__name__


def _ordered(parts: Sequence[Node]) -> list[Callable[[Flow], bool]]:
    """The parts' tests, cheap ones first (a summary test often spares a content scan);
    plain predicates are called directly, one call layer less per flow."""
    ordered = sorted(parts, key=lambda p: p.needs_content)
    return [p.test if isinstance(p, Predicate) else p for p in ordered]


def _every(tests: list[T | None]) -> list[T] | None:
    """The parts' tests, or None if a part has none (then the whole has none either)."""
    ready = [t for t in tests if t is not None]
    return ready if len(ready) == len(tests) else None


class And(Node):
    """All of the parts match (`a & b`, or `a b`)."""

    def __init__(self, parts: Sequence[Node]) -> None:
        self.parts = tuple(parts)
        self.needs_content = any(p.needs_content for p in self.parts)
        self._order = _ordered(self.parts)

    def __call__(self, flow: Flow) -> bool:
        for part in self._order:  # noqa: SIM110 - no generator per flow: this is the hot loop
            if not part(flow):
                return False
        return True

    def on_summary(self) -> SummaryTest | None:
        ready = _every([p.on_summary() for p in self.parts])
        if ready is None:
            return None

        def test(s: FlowSummary) -> bool:
            for t in ready:  # noqa: SIM110 - a loop, not a generator: the hot path
                if not t(s):
                    return False
            return True

        return test

    def on_columns(self) -> ColumnTest | None:
        ready = _every([p.on_columns() for p in self.parts])
        if ready is None:
            return None

        def select(table: SummaryColumns) -> int:
            mask = table.ones
            for t in ready:
                if not mask:
                    break  # as the per-flow test, which never looks further
                mask &= t(table)
            return mask

        return select

    def may_match(self) -> RawTest:
        tests = [p.may_match() for p in self.parts]
        return lambda s, raw: all(t(s, raw) for t in tests)

    def dump(self) -> str:
        return f"And({', '.join(p.dump() for p in self.parts)})"


class Or(Node):
    """Any of the parts matches (`a | b`)."""

    def __init__(self, parts: Sequence[Node]) -> None:
        self.parts = tuple(parts)
        self.needs_content = any(p.needs_content for p in self.parts)
        self._order = _ordered(self.parts)

    def __call__(self, flow: Flow) -> bool:
        for part in self._order:  # noqa: SIM110 - hot loop, as in And
            if part(flow):
                return True
        return False

    def on_summary(self) -> SummaryTest | None:
        ready = _every([p.on_summary() for p in self.parts])
        if ready is None:
            return None

        def test(s: FlowSummary) -> bool:
            for t in ready:  # noqa: SIM110 - as in And
                if t(s):
                    return True
            return False

        return test

    def on_columns(self) -> ColumnTest | None:
        ready = _every([p.on_columns() for p in self.parts])
        if ready is None:
            return None

        def select(table: SummaryColumns) -> int:
            mask = 0
            for t in ready:
                if mask == table.ones:
                    break  # as the per-flow test, which never looks further
                mask |= t(table)
            return mask

        return select

    def may_match(self) -> RawTest:
        tests = [p.may_match() for p in self.parts]
        return lambda s, raw: any(t(s, raw) for t in tests)

    def dump(self) -> str:
        return f"Or({', '.join(p.dump() for p in self.parts)})"


class Not(Node):
    """The part does not match (`!a`)."""

    def __init__(self, part: Node) -> None:
        self.part = part
        self.needs_content = part.needs_content

    def __call__(self, flow: Flow) -> bool:
        return not self.part(flow)

    def on_summary(self) -> SummaryTest | None:
        test = self.part.on_summary()
        return None if test is None else (lambda s: not test(s))

    def on_columns(self) -> ColumnTest | None:
        test = self.part.on_columns()
        return None if test is None else (lambda table: table.ones ^ test(table))

    def dump(self) -> str:
        return f"Not({self.part.dump()})"


class Const(Node):
    """Always the same answer (`~all`)."""

    def __init__(self, name: str, value: bool) -> None:
        self.name, self.value = name, value

    def __call__(self, flow: Flow) -> bool:
        return self.value

    def on_summary(self) -> SummaryTest | None:
        return lambda _s: self.value

    def on_columns(self) -> ColumnTest | None:
        return lambda table: table.ones if self.value else 0

    def dump(self) -> str:
        return self.name


class Predicate(Node):
    """An operator without an argument: a plain test of the flow."""

    def __init__(
        self, name: str, test: Callable[[Flow], bool], summary: SummaryTest | None = None
    ) -> None:
        self.name, self.test, self.summary = name, test, summary

    def __call__(self, flow: Flow) -> bool:
        return self.test(flow)

    def on_summary(self) -> SummaryTest | None:
        return self.summary

    def dump(self) -> str:
        return self.name


class TextRegex(Node):
    """An operator whose regex is searched in texts taken from the flow (and, where the
    summary has them, in the texts of one summary field)."""

    def __init__(
        self,
        name: str,
        regex: re.Pattern[str],
        texts: Callable[[Flow], Sequence[str]],
        field: str | None = None,
        field_texts: Callable[[Any], Sequence[str]] | None = None,
    ) -> None:
        self.name, self.regex, self.texts = name, regex, texts
        self.field = field
        """The summary field holding the same texts (None: the flow is needed)."""
        self.field_texts = field_texts
        """The texts in that field's value (None: the value is a tuple of them)."""

    def __call__(self, flow: Flow) -> bool:
        search = self.regex.search
        for text in self.texts(flow):  # noqa: SIM110 - hot loop, as in And
            if search(text):
                return True
        return False

    def on_summary(self) -> SummaryTest | None:
        field, texts, search = self.field, self.field_texts, self.regex.search
        if field is None:
            return None
        if texts is None:
            return FieldTest(field, lambda value: any(map(search, value)))
        return FieldTest(field, lambda value: any(map(search, texts(value))))

    def on_columns(self) -> ColumnTest | None:
        field, search = self.field, self.regex.search
        if field is not None and self.field_texts is None:  # a tuple of texts: any of them
            return lambda table: table.search_mask(field, search)
        return super().on_columns()

    def dump(self) -> str:
        return f"{self.name}({self.regex.pattern!r})"


# -- flow-wide operators ------------------------------------------------------------------


def is_tcp(flow: Flow) -> bool:
    return isinstance(flow, TCPFlow)


def is_udp(flow: Flow) -> bool:
    return isinstance(flow, UDPFlow)


def is_http(flow: Flow) -> bool:
    return isinstance(flow, HTTPFlow)


def is_dns(flow: Flow) -> bool:
    return isinstance(flow, DNSFlow)


def is_websocket(flow: Flow) -> bool:
    return isinstance(flow, HTTPFlow) and flow.websocket is not None


def has_error(flow: Flow) -> bool:
    return flow.error is not None


def is_marked(flow: Flow) -> bool:
    return bool(flow.marked)


def is_replay(flow: Flow) -> bool:
    return flow.is_replay is not None


def is_replay_request(flow: Flow) -> bool:
    return flow.is_replay == "request"


def is_replay_response(flow: Flow) -> bool:
    return flow.is_replay == "response"


def one_text(value: str) -> Sequence[str]:
    """A summary field holding one text, as the texts `TextRegex` searches."""
    return (value,)


def marker_texts(flow: Flow) -> Sequence[str]:
    return (flow.marked,) if isinstance(flow.marked, str) else ()


def comment_texts(flow: Flow) -> Sequence[str]:
    return (flow.comment,) if isinstance(flow.comment, str) else ()


def meta_texts(flow: Flow) -> Sequence[str]:
    """`key: value` lines, as mitmproxy's `~meta` formats them."""
    meta: Any = flow.metadata
    if not isinstance(meta, dict) or not meta:
        return ()
    return ("\n".join(f"{key}: {value}" for key, value in meta.items()),)


def src_texts(flow: Flow) -> Sequence[str]:
    """The client's address (`~src`)."""
    return address_texts(flow.client_conn.peername)


def dst_texts(flow: Flow) -> Sequence[str]:
    """The server's address, its resolved address and the SNI of either side (`~dst`)."""
    server = flow.server_conn
    out = address_texts(server.address) + address_texts(server.peername)
    for sni in (flow.client_conn.sni, server.sni):
        if sni:
            out.append(sni)
    return out
