"""Objects that turn into plain state (dicts, lists, tuples, scalars) and back.

The state layout is mitmproxy's, so that a flow's state in flowtui equals the state
mitmproxy computes for the same flow. Dataclass fields say how to convert each value
with an explicit *codec* instead of reflecting on type hints: explicit codecs are
checked once, read clearly and are fast enough for captures of 100,000 flows.
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import math
import uuid
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Self

State = Any
"""A serialized state: nested dicts, lists, tuples, str, bytes, int, float, bool, None."""


class Serializable(abc.ABC):
    """An object whose state can be saved with `get_state` and restored later."""

    @classmethod
    @abc.abstractmethod
    def from_state(cls, state: State) -> Self:
        """Create a new object from `state`. May consume the passed state."""

    @abc.abstractmethod
    def get_state(self) -> State:
        """Return the object's state."""

    @abc.abstractmethod
    def set_state(self, state: State) -> None:
        """Replace the object's state. May consume the passed state."""

    def copy(self) -> Self:
        """A copy through the state; a top-level `id` is replaced with a fresh one."""
        state = self.get_state()
        if isinstance(state, dict) and "id" in state:
            state["id"] = str(uuid.uuid4())
        return self.from_state(state)


class Codec(abc.ABC):
    """Converts one field between its value and its state, validating the state."""

    @abc.abstractmethod
    def to_state(self, value: Any) -> State: ...

    @abc.abstractmethod
    def to_value(self, state: State, name: str) -> Any: ...


def _kind(value: Any) -> str:
    return type(value).__name__


class Scalar(Codec):
    """str, bytes or bool: the state must already have exactly that type."""

    def __init__(self, typ: type) -> None:
        self.typ = typ

    def to_state(self, value: Any) -> State:
        return value

    def to_value(self, state: State, name: str) -> Any:
        if state is None:
            raise ValueError(f"Attribute {name} must not be None.")
        if not isinstance(state, self.typ):
            raise ValueError(
                f"Invalid value for {name}. Expected {self.typ.__name__}, got {_kind(state)}."
            )
        return state


class Number(Codec):
    """int or float; either is accepted in the state and converted (files hold both).

    A float holds NaN and infinities, which mitmproxy reads (a timestamp may be NaN);
    an int cannot, so they are refused here as invalid, not left to `int()` to raise."""

    def __init__(self, typ: type[int] | type[float]) -> None:
        self.typ = typ

    def to_state(self, value: Any) -> State:
        return value

    def to_value(self, state: State, name: str) -> Any:
        if state is None:
            raise ValueError(f"Attribute {name} must not be None.")
        if not isinstance(state, int | float):
            raise ValueError(
                f"Invalid value for {name}. Expected {self.typ.__name__}, got {_kind(state)}."
            )
        if self.typ is int and isinstance(state, float) and not math.isfinite(state):
            raise ValueError(f"Invalid value for {name}. Expected int, got {state!r}.")
        try:
            return self.typ(state)
        except OverflowError:  # an int too large for a float
            raise ValueError(f"Invalid value for {name}: {state} is out of range.") from None


class Optional(Codec):
    """`None` or whatever the inner codec accepts."""

    def __init__(self, inner: Codec) -> None:
        self.inner = inner

    def to_state(self, value: Any) -> State:
        return None if value is None else self.inner.to_state(value)

    def to_value(self, state: State, name: str) -> Any:
        return None if state is None else self.inner.to_value(state, name)


class OneOf(Codec):
    """A string from a fixed set (mitmproxy's `Literal[...]` fields)."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = frozenset(values)

    def to_state(self, value: Any) -> State:
        return value

    def to_value(self, state: State, name: str) -> Any:
        if not isinstance(state, str) or state not in self.values:
            raise ValueError(
                f"Invalid value for {name}: {state!r} does not match any literal value."
            )
        return state


class ListOf(Codec):
    """A sequence, stored as a list."""

    def __init__(self, item: Codec) -> None:
        self.item = item

    def to_state(self, value: Any) -> State:
        return [self.item.to_state(v) for v in value]

    def to_value(self, state: State, name: str) -> Any:
        if not isinstance(state, list | tuple):
            raise ValueError(f"Invalid value for {name}. Expected a list, got {_kind(state)}.")
        return [self.item.to_value(v, name) for v in state]


class TupleOf(Codec):
    """A fixed-length tuple; its state is a tuple too (lists are accepted when reading)."""

    def __init__(self, *items: Codec) -> None:
        self.items = items

    def to_state(self, value: Any) -> State:
        return tuple(c.to_state(v) for c, v in zip(self.items, value, strict=True))

    def to_value(self, state: State, name: str) -> Any:
        if not isinstance(state, list | tuple) or len(state) != len(self.items):
            raise ValueError(f"Invalid data for {name}. Expected {len(self.items)} items.")
        return tuple(c.to_value(v, name) for c, v in zip(self.items, state, strict=True))


class AddressCodec(Codec):
    """`(host, port)`, or `(host, port, flowinfo, scope_id)` for IPv6."""

    def to_state(self, value: Any) -> State:
        return tuple(value)

    def to_value(self, state: State, name: str) -> Any:
        if state is None:
            raise ValueError(f"Attribute {name} must not be None.")
        if not isinstance(state, list | tuple) or not 2 <= len(state) <= 4:
            raise ValueError(f"Invalid value for {name}. Expected an address, got {state!r}.")
        host, *ints = state
        if not isinstance(host, str) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in ints
        ):
            raise ValueError(f"Invalid value for {name}. Expected (str, int), got {state!r}.")
        return (host, *ints)


class Nested(Codec):
    """A `Serializable` value stored as its own state."""

    def __init__(self, cls: Callable[[], type[Serializable]] | type[Serializable]) -> None:
        self._cls = cls

    @property
    def cls(self) -> type[Serializable]:
        cls = self._cls
        if isinstance(cls, type):
            return cls
        return cls()

    def to_state(self, value: Any) -> State:
        return value.get_state()

    def to_value(self, state: State, name: str) -> Any:
        if state is None:
            raise ValueError(f"Attribute {name} must not be None.")
        return self.cls.from_state(state)


class EnumCodec(Codec):
    """An `enum.Enum` member stored as its value."""

    def __init__(self, cls: type[enum.Enum]) -> None:
        self.cls = cls

    def to_state(self, value: Any) -> State:
        return value.value

    def to_value(self, state: State, name: str) -> Any:
        try:
            return self.cls(state)
        except (ValueError, TypeError):
            raise ValueError(f"Invalid value for {name}: {state!r}.") from None


STR = Scalar(str)
BYTES = Scalar(bytes)
BOOL = Scalar(bool)
FLOAT = Number(float)
INT = Number(int)


def sfield(codec: Codec, **kwargs: Any) -> Any:
    """A dataclass field that is part of the state, converted with `codec`."""
    return dataclasses.field(metadata={"codec": codec}, **kwargs)


class SerializableDataclass(Serializable):
    """A dataclass whose state is a dict of its serialized fields, in field order.

    Fields declared with `metadata={"serialize": False}` are left out; every other
    field must be declared with `sfield(codec)`.
    """

    _codecs: ClassVar[tuple[tuple[str, Codec], ...] | None] = None

    @classmethod
    def _fields(cls) -> tuple[tuple[str, Codec], ...]:
        codecs = cls.__dict__.get("_codecs")
        if codecs is None:
            found = []
            for f in dataclasses.fields(cls):  # type: ignore[arg-type]
                if f.metadata.get("serialize", True) is False:
                    continue
                codec = f.metadata.get("codec")
                if not isinstance(codec, Codec):
                    raise TypeError(f"{cls.__name__}.{f.name} has no codec")
                found.append((f.name, codec))
            codecs = tuple(found)
            cls._codecs = codecs
        return codecs

    def get_state(self) -> State:
        return {name: codec.to_state(getattr(self, name)) for name, codec in self._fields()}

    @classmethod
    def _values(cls, state: State) -> dict[str, Any]:
        if not isinstance(state, dict):
            raise ValueError(
                f"Invalid state for {cls.__name__}: expected a dict, got {_kind(state)}."
            )
        values = {}
        for name, codec in cls._fields():
            try:
                field_state = state.pop(name)
            except KeyError:
                raise ValueError(f"Missing field in {cls.__name__} state: {name}") from None
            values[name] = codec.to_value(field_state, name)
        if state:
            raise ValueError(f"Unexpected fields in {cls.__name__}.set_state: {sorted(state)}")
        return values

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls(**cls._values(state))

    def set_state(self, state: State) -> None:
        for name, value in self._values(state).items():
            setattr(self, name, value)
