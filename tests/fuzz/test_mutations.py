"""A deterministic sample of the field-type mutations (tests/fuzz/mutations.py) in the
suite; `make fuzz` runs 100,000 of them (tests/fuzz/mutate.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import MUTATION_VALUES, SUMMARY, mutations, run_mutations

SAMPLE = 300
"""Mutations run in the suite (a few seconds; the order is shuffled with a fixed seed,
so the sample reaches every kind of record, field and value)."""


def test_a_sample_of_field_type_mutations_has_no_failures() -> None:
    sample = mutations(seed=11)[:SAMPLE]
    report = run_mutations(sample)
    details = "\n".join(f"{n} {k}: e.g. {report.examples[k]}" for k, n in report.failures.items())
    assert report.failed == 0, details
    assert report.mutations == SAMPLE


def test_the_mutations_cover_every_record_kind_field_and_value() -> None:
    every = mutations()
    assert len(every) >= 100_000
    values = {m.value for m in every}
    assert values == set(range(len(MUTATION_VALUES)))
    assert any(m.path[0] == SUMMARY for m in every)
    fields = {m.path[-1] for m in every if isinstance(m.path[-1], str)}
    for name in ("questions", "websocket", "certificate_list", "tls_version", "timestamp_end",
                 "marked", "messages", "error", "ix", "status_code", "proxy_mode"):  # fmt: skip
        assert name in fields, name


@pytest.mark.parametrize("value", [name for name, _ in MUTATION_VALUES])
def test_each_odd_value_on_a_tcp_flow(value: str) -> None:
    """Every odd value in a few fields of every kind of a TCP record, both formats."""
    index = [name for name, _ in MUTATION_VALUES].index(value)
    chosen = [
        m
        for m in mutations()
        if m.value == index
        and m.path[-1] in ("timestamp_end", "tls_version", "sni", "ix", "marked")
        and "echo_basic" in m.describe()
    ][:4]
    assert chosen
    report = run_mutations(chosen)
    assert report.failed == 0, dict(report.failures)
