"""Dictionaries with several values per key, mirroring `mitmproxy.coretypes.multidict`.

HTTP keeps repeated fields (headers, query parameters, cookies, form fields) in order,
so a plain dict would lose data. A multidict stores the raw `(key, value)` pairs in
`fields` and offers a dict interface on top: the first (or folded) value per key.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, MutableMapping, Sequence
from typing import Any, Generic, Self, TypeVar

from flowtui.core.serializable import Serializable, State

__all__ = ["MultiDict", "MultiDictView"]

KT = TypeVar("KT")
VT = TypeVar("VT")


class _MultiDict(MutableMapping[KT, VT], Generic[KT, VT]):
    """The dict interface over `fields`; subclasses say how keys compare and values fold."""

    @property
    @abstractmethod
    def fields(self) -> tuple[tuple[KT, VT], ...]:
        """The raw `(key, value)` pairs, in order."""

    @fields.setter
    @abstractmethod
    def fields(self, value: tuple[tuple[KT, VT], ...]) -> None: ...

    @staticmethod
    @abstractmethod
    def _reduce_values(values: Sequence[Any]) -> Any:
        """The single value `md[key]` gives for all the values of a key."""

    @staticmethod
    @abstractmethod
    def _kconv(key: Any) -> Any:
        """The form of a key used to compare keys (lower case for headers)."""

    def __repr__(self) -> str:
        inner = ", ".join(repr(field) for field in self.fields)
        return f"{type(self).__name__}[{inner}]"

    def __getitem__(self, key: KT) -> VT:
        values = self.get_all(key)
        if not values:
            raise KeyError(key)
        return self._reduce_values(values)  # type: ignore[no-any-return]

    def __setitem__(self, key: KT, value: VT) -> None:
        self.set_all(key, [value])

    def __delitem__(self, key: KT) -> None:
        if key not in self:
            raise KeyError(key)
        wanted = self._kconv(key)
        self.fields = tuple(f for f in self.fields if self._kconv(f[0]) != wanted)

    def __iter__(self) -> Iterator[KT]:
        seen = set()
        for key, _ in self.fields:
            canonical = self._kconv(key)
            if canonical not in seen:
                seen.add(canonical)
                yield key

    def __len__(self) -> int:
        return len({self._kconv(key) for key, _ in self.fields})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self.fields == other.fields
        return False

    __hash__ = None  # type: ignore[assignment]

    def get_all(self, key: KT) -> list[VT]:
        """Every value of `key`, in order (an empty list if there is none)."""
        wanted = self._kconv(key)
        return [value for k, value in self.fields if self._kconv(k) == wanted]

    def set_all(self, key: KT, values: list[VT]) -> None:
        """Replace the values of `key`: existing fields keep their place, extra values
        go to the end, fields beyond the new values are removed."""
        wanted = self._kconv(key)
        pending = list(values)
        out: list[tuple[KT, VT]] = []
        for field in self.fields:
            if self._kconv(field[0]) != wanted:
                out.append(field)
            elif pending:
                out.append((field[0], pending.pop(0)))
        out.extend((key, value) for value in pending)
        self.fields = tuple(out)

    def add(self, key: KT, value: VT) -> None:
        """Append one more value for `key`."""
        self.insert(len(self.fields), key, value)

    def insert(self, index: int, key: KT, value: VT) -> None:
        """Insert a `(key, value)` field at position `index`."""
        fields = self.fields
        self.fields = (*fields[:index], (key, value), *fields[index:])

    def keys(self, multi: bool = False) -> Any:
        """The keys; with `multi`, one per value (repeated keys repeated)."""
        return (k for k, _ in self.items(multi))

    def values(self, multi: bool = False) -> Any:
        """The values; with `multi` every value, else the first per key."""
        return (v for _, v in self.items(multi))

    def items(self, multi: bool = False) -> Any:
        """`(key, value)` pairs; with `multi` every field, else one per key."""
        if multi:
            return self.fields
        return super().items()


class MultiDict(_MultiDict[KT, VT], Serializable):
    """A multidict holding its own fields (case-sensitive keys, first value wins)."""

    def __init__(self, fields: Iterable[Sequence[Any]] = ()) -> None:
        self._fields: tuple[tuple[KT, VT], ...] = tuple(tuple(f) for f in fields)

    @property
    def fields(self) -> tuple[tuple[KT, VT], ...]:
        return self._fields

    @fields.setter
    def fields(self, value: tuple[tuple[KT, VT], ...]) -> None:
        self._fields = value

    @staticmethod
    def _reduce_values(values: Sequence[Any]) -> Any:
        return values[0]

    @staticmethod
    def _kconv(key: Any) -> Any:
        return key

    def get_state(self) -> State:
        return self.fields

    def set_state(self, state: State) -> None:
        self.fields = tuple(tuple(x) for x in state)

    @classmethod
    def from_state(cls, state: State) -> Self:
        return cls(state)


class MultiDictView(_MultiDict[KT, VT]):
    """The multidict interface over data computed from a parent object.

    It holds no state: reading calls `getter`, every change calls `setter` with the new
    fields, so a request's `query` view and its `path` always agree.
    """

    def __init__(
        self,
        getter: Callable[[], tuple[tuple[KT, VT], ...]],
        setter: Callable[[tuple[tuple[KT, VT], ...]], None],
    ) -> None:
        self._getter = getter
        self._setter = setter

    @property
    def fields(self) -> tuple[tuple[KT, VT], ...]:
        return self._getter()

    @fields.setter
    def fields(self, value: tuple[tuple[KT, VT], ...]) -> None:
        self._setter(value)

    @staticmethod
    def _kconv(key: Any) -> Any:
        return key  # request attributes are case-sensitive

    @staticmethod
    def _reduce_values(values: Sequence[Any]) -> Any:
        return values[0]

    def copy(self) -> MultiDict[KT, VT]:
        """A detached `MultiDict` with the current fields."""
        return MultiDict(self.fields)
