"""DNS flows, kept as raw state: see `flowtui.core.opaque`."""

from __future__ import annotations

from flowtui.core.opaque import OpaqueFlow

__all__ = ["DNSFlow"]


class DNSFlow(OpaqueFlow):
    """A DNS query and its response."""

    parts = ("request", "response")
    required = ("request",)

    @property
    def questions(self) -> list[tuple[str, int]]:
        """The questions of the query as `(name, type)` pairs."""
        out: list[tuple[str, int]] = []
        questions = self._part("request").get("questions")
        if not isinstance(questions, list | tuple):  # kept as read, so anything
            return out
        for q in questions:
            if isinstance(q, dict):
                name, typ = q.get("name"), q.get("type")
                out.append((str(name), typ if isinstance(typ, int) else 0))
        return out

    @property
    def answer_count(self) -> int | None:
        """How many answers the response holds, or None without a response."""
        answers = self._part("response").get("answers") if self.raw.get("response") else None
        return len(answers) if isinstance(answers, list | tuple) else None
