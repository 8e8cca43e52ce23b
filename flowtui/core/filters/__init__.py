"""mitmproxy's filter language for flowtui: `parse("~tcp & ~sni example")(flow) -> bool`.

Users of mitmproxy keep their habits: the same `~operators`, `!`, `&`, `|`,
parentheses, juxtaposition as "and", quoted arguments, and a bare word matching the URL
of an HTTP flow (the first question of a DNS flow). For TCP and UDP flows, which have no
URL, a bare word matches the message content, like `~b`. flowtui adds `~sni`, `~tls
[VERSION]`, `~alpn`, `~cert` and `~size OP N` for TCP and TLS traffic.

Differences from mitmproxy 11, on purpose:
- every regular expression is case-insensitive (mitmproxy: only `~d ~m ~u` and bare
  words); `(?-i:...)` makes a part case-sensitive;
- inside quotes only `\\"` (or `\\'`) is an escape, so `"\\d+"` is the regex `\\d+`
  (mitmproxy drops the backslash and searches for `d+`);
- `~src`/`~dst` also match the bracketed IPv6 form, and `~dst` the resolved server
  address and the SNI of either side;
- parentheses may hold juxtaposed terms, `~tcp&~udp` needs no spaces, and a dangling
  operator (`~tcp &`) is an error rather than a search for the URL `&`;
- a regex that repeats a repeated group (`(a+)+`) is refused: it can take forever.

Bad input raises `FilterError` with `.pos`, never anything else; input is bounded to
`MAX_LENGTH` characters. Regexes are compiled once, at parse time.
"""

from __future__ import annotations

from collections.abc import Sequence

from flowtui.core import Flow
from flowtui.core.filters.catalog import OPERATORS
from flowtui.core.filters.columns import SummaryColumns
from flowtui.core.filters.errors import FilterError
from flowtui.core.filters.nodes import Node
from flowtui.core.filters.syntax import MAX_DEPTH, MAX_LENGTH, parse_tree
from flowtui.core.summary import FlowSummary

__all__ = ["FILTER_HELP", "MAX_DEPTH", "MAX_LENGTH", "Filter", "FilterError", "match", "parse"]


class Filter:
    """A parsed filter expression: call it with a flow to test whether the flow matches."""

    def __init__(self, pattern: str, root: Node) -> None:
        self.pattern = pattern
        """The expression exactly as given to `parse()`."""
        self.root = root
        """The parsed tree."""
        self.needs_content = root.needs_content
        """True if matching scans message content (`~b`, bare words): this can be slow on
        big captures, so run such filters off the UI thread. Other filters only read
        connection and annotation fields."""
        self._summary_test = self.summary_test = root.on_summary()
        """The filter as a test of a flow's summary, or None when it needs the flow."""
        self.on_summaries = self._summary_test is not None
        """True if `match_summary` answers exactly as calling the filter on the flow:
        no flow need be decoded (the flow list filters 100k flows this way)."""
        self._may_match = root.may_match()
        self._column_test = root.on_columns()

    def __call__(self, flow: Flow) -> bool:
        return self.root(flow)

    def may_match(self, summary: FlowSummary, raw: bytes) -> bool:
        """False only if a flow with this summary and raw record cannot match: lets a
        content filter skip decoding most records of a lazy capture."""
        return self._may_match(summary, raw)

    def match_summary(self, summary: FlowSummary) -> bool:
        """The filter applied to a flow's summary (only when `on_summaries`)."""
        if self._summary_test is None:
            raise ValueError(f"{self.pattern!r} needs the flows, not their summaries")
        return self._summary_test(summary)

    def match_summaries(self, summaries: Sequence[FlowSummary]) -> bytes:
        """The filter applied to many summaries at once (only when `on_summaries`): one
        byte per summary, 1 where it matches, else 0 (ready for `itertools.compress`).
        The same answers as `match_summary` on each, field by field rather than flow by
        flow (a store keeps its columns: see `match_columns`). Raises what a test raises."""
        return self.match_columns(SummaryColumns(summaries))

    def match_columns(self, columns: SummaryColumns) -> bytes:
        """As `match_summaries`, on summaries kept column by column (as a store keeps
        them: no pass over the summaries themselves)."""
        if self._column_test is None:
            raise ValueError(f"{self.pattern!r} needs the flows, not their summaries")
        return columns.flags(self._column_test(columns))

    def __str__(self) -> str:
        return self.pattern

    def __repr__(self) -> str:
        return f"Filter({self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Filter) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)


def parse(pattern: str) -> Filter:
    """Compile a filter expression; raises `FilterError` (never anything else) if invalid."""
    if not isinstance(pattern, str):
        raise FilterError(f"a filter expression is text, not {type(pattern).__name__}", 0)
    return Filter(pattern, parse_tree(pattern))


def match(pattern: str | Filter, flow: Flow) -> bool:
    """Test one flow against an expression or a parsed filter (as mitmproxy's `match`)."""
    flt = pattern if isinstance(pattern, Filter) else parse(pattern)
    return flt(flow)


_ARG_SYNTAX = {
    "none": "",
    "regex": " regex",
    "code": " code",
    "size": " OP N",
    "version": " [version]",
}

FILTER_HELP: tuple[tuple[str, str], ...] = (
    *((f"~{op.name}{_ARG_SYNTAX[op.arg]}", op.help) for op in OPERATORS.values()),
    ("word", "HTTP: URL; DNS: question; TCP/UDP: message content"),
    ("!", "not"),
    ("&", "and (also: two terms side by side)"),
    ("|", "or"),
    ("( )", "grouping"),
    ('"..."', 'quoted argument; \\" for a quote'),
)
"""(syntax, meaning) rows for a help screen, operators first."""
