"""``Slice[T]``: the payload of a slice service, a view over its elements in
shared memory (no copy)."""

import ctypes
from typing import Any, Generic, Iterator, TypeVar, Union

from ._icefloe import ReleasedObjectError, _Buffer

T = TypeVar("T")

_FORMATS = {"B": "B", "b": "b", "H": "H", "h": "h", "I": "I", "i": "i", "L": "L", "l": "l",
            "Q": "Q", "q": "q", "f": "f", "d": "d"}


class Slice(_Buffer, Generic[T]):
    """A view over the ``len()`` elements of a loan or a received chunk.

    ``Slice[ctypes.c_uint8]`` names a slice payload type in a service
    builder. The view indexes (``s[i]``, ``s[a:b]``), assigns
    (``s[i] = v``, bulk ``s[:] = data``), iterates and has ``len(s)``; it
    exports the buffer protocol, so ``memoryview(s)`` (format ``B``, bytes)
    and ``numpy.frombuffer(s, dtype)`` read and write the memory without a
    copy. A received payload is read-only. Every access checks that the
    loan or sample is still held (``ReleasedObjectError`` once it was sent
    or deleted); a memoryview keeps a received sample alive until it is
    released, and a loan cannot be sent while one is alive (``BufferError``).
    """

    __slots__ = ("_chunk", "_t", "_n", "_items", "_writable")

    def __init__(self, chunk: Any, t: Any) -> None:
        self._chunk = chunk
        self._t = t
        self._n = chunk._len
        self._writable = chunk._writable
        self._items = None

    def _elements(self) -> Any:
        """The elements, made on first use: for scalars a memoryview in the
        element's native format over the memory (not an export: used only
        after the check that the chunk is still held), else a ctypes array."""
        if self._items is None:
            chunk, t = self._chunk, self._t
            code = getattr(t, "_type_", None)
            if isinstance(code, str) and code in _FORMATS:
                raw = (ctypes.c_ubyte * chunk._nbytes).from_address(chunk._ptr)
                mv = memoryview(raw).cast("B").cast(_FORMATS[code])
                self._items = mv if self._writable else mv.toreadonly()
            else:
                self._items = (t * self._n).from_address(chunk._ptr)
        return self._items

    def _check(self) -> None:
        if not self._chunk._alive:
            raise ReleasedObjectError("this slice's loan or sample was sent or deleted")

    def len(self) -> int:
        """The number of elements (iceoryx2's spelling of ``len(s)``)."""
        return self._n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: Union[int, slice]) -> Any:
        self._check()
        items = self._elements()
        if isinstance(index, slice):
            part = items[index]
            return part.tobytes() if isinstance(part, memoryview) and part.format == "B" else list(part)
        if not -self._n <= index < self._n:
            raise IndexError("index %d out of range for a slice of %d elements" % (index, self._n))
        item = items[index]
        if not self._writable and not isinstance(items, memoryview):
            # Structure elements of received data: a copy, so that writing
            # it cannot reach read-only memory.
            item = type(item).from_buffer_copy(item)
        return item

    def __setitem__(self, index: Union[int, slice], value: Any) -> None:
        self._check()
        if not self._writable:
            raise TypeError("a received payload is read-only")
        items = self._elements()
        if isinstance(index, slice):
            if isinstance(items, memoryview):
                items[index] = memoryview(value).cast("B").cast(items.format) \
                    if not isinstance(value, memoryview) or value.format != items.format else value
            else:
                items[index] = value
            return
        if not -self._n <= index < self._n:
            raise IndexError("index %d out of range for a slice of %d elements" % (index, self._n))
        items[index] = value

    def __iter__(self) -> Iterator[Any]:
        for i in range(self._n):
            yield self[i]

    def as_ptr(self) -> int:
        """The address of the first element."""
        self._check()
        return self._chunk._ptr

    def as_memory_view(self) -> memoryview:
        """A memoryview over the elements' bytes (format ``B``), no copy."""
        return memoryview(self)

    def __repr__(self) -> str:
        return "Slice[%s](len=%d)" % (getattr(self._t, "__name__", self._t), self._n)
