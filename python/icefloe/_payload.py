"""Payload types and views: how a ctypes type is described to a service,
and what ``payload()`` returns over a chunk of shared memory."""

import ctypes
import typing
from typing import Any, Tuple

from .slice import Slice
from .type_name import get_type_name


def describe(t: Any) -> Tuple[bool, str, int, int, Any]:
    """(is_slice, name, size, alignment, element type) of a payload type:
    a ctypes type, or ``Slice[ctype]``."""
    if typing.get_origin(t) is Slice:
        (element,) = typing.get_args(t)
        _check_ctype(element, t)
        return True, get_type_name(element), ctypes.sizeof(element), ctypes.alignment(element), element
    _check_ctype(t, t)
    return False, get_type_name(t), ctypes.sizeof(t), ctypes.alignment(t), t


def _check_ctype(element: Any, given: Any) -> None:
    ok = isinstance(element, type) and issubclass(
        element, (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)
    )
    if not ok or issubclass(element, ctypes._Pointer) or getattr(element, "_type_", None) in ("z", "Z", "P", "O"):
        raise TypeError(
            "%r cannot travel through shared memory: a payload is a ctypes scalar, "
            "ctypes.Structure, Union or Array, or Slice[such a type]" % (given,)
        )


def view(chunk: Any, element: Any, is_slice: bool) -> Any:
    """What ``payload()`` returns: a ``Slice`` over the elements, or a
    pointer whose ``.contents`` is the value (read-only when received)."""
    if is_slice:
        return Slice(chunk, element)
    return Pointer(chunk, element)


def slice_len(value: Any, element: Any) -> int:
    """The element count of a value for ``send_copy`` on a slice service."""
    if isinstance(value, ctypes.Array) and value._type_ is element:
        return len(value)
    if element is ctypes.c_uint8 or element is ctypes.c_char:
        return len(memoryview(value).cast("B"))
    return len(value)


def write(chunk: Any, element: Any, value: Any) -> None:
    """Copies ``value`` into a loan: a ctypes value of the payload type,
    a Python number for a scalar type, or bytes-like / sequence for slices."""
    ptr, nbytes = chunk._ptr, chunk._nbytes
    if issubclass_safe(element, ctypes._SimpleCData) and not isinstance(value, ctypes._SimpleCData):
        if chunk._len == 1 and not isinstance(value, (bytes, bytearray, memoryview, list, tuple)):
            value = element(value)
    if isinstance(value, (ctypes._SimpleCData, ctypes.Structure, ctypes.Union, ctypes.Array)):
        if ctypes.sizeof(value) != nbytes:
            raise TypeError("the value has %d bytes, the payload %d" % (ctypes.sizeof(value), nbytes))
        if isinstance(value, ctypes.Array):
            ok = value._type_ is element or type(value) is element
        else:
            ok = isinstance(value, element)
        if not ok:
            raise TypeError("a %s cannot be written as a %s" % (type(value).__name__, element.__name__))
        ctypes.memmove(ptr, ctypes.addressof(value), nbytes)
        return
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = memoryview(value).cast("B")
        if len(data) != nbytes:
            raise ValueError("%d bytes do not fill a payload of %d" % (len(data), nbytes))
        (ctypes.c_ubyte * nbytes).from_address(ptr)[:] = data
        return
    (element * chunk._len).from_address(ptr)[:] = value


def issubclass_safe(t: Any, base: Any) -> bool:
    return isinstance(t, type) and issubclass(t, base)


_read_only_types: dict = {}


def _refuse(*_args: Any) -> None:
    raise TypeError("a received payload is read-only")


def read_only(t: Any) -> Any:
    """A subclass of ``t`` whose top-level writes raise ``TypeError``."""
    ro = _read_only_types.get(t)
    if ro is None:
        namespace = {"__setattr__": _refuse, "__module__": __name__}
        if issubclass(t, ctypes.Array):
            namespace["__setitem__"] = _refuse
        if hasattr(t, "type_name"):
            namespace["type_name"] = t.type_name
        ro = type("ReadOnly" + t.__name__, (t,), namespace)
        _read_only_types[t] = ro
    return ro


def _flat(t: Any) -> bool:
    """Whether ``t`` reaches no nested ctypes object through its fields or
    items (so a read-only view of its top level covers all of it)."""
    if issubclass(t, ctypes._SimpleCData):
        return True
    if issubclass(t, ctypes.Array):
        return issubclass(t._type_, ctypes._SimpleCData)
    return all(issubclass(f[1], ctypes._SimpleCData) for f in getattr(t, "_fields_", ()))


def header_view(chunk: Any, t: Any) -> Any:
    """What ``user_header()`` returns: a pointer whose ``.contents`` is the
    header (read-only when received)."""
    return Pointer(chunk, t, header=True)


class Pointer:
    """The payload of a fixed-size service: ``.contents`` is the value, in
    place (a ctypes object over the shared memory), as with
    ``ctypes.POINTER``. Each access checks that the loan or sample is still
    held. A received value is read-only: writing it raises ``TypeError``
    (a value with nested structures or arrays is given as a read-only copy,
    since its nested parts cannot be guarded in place)."""

    __slots__ = ("_chunk", "_t", "_header")

    def __init__(self, chunk: Any, t: Any, header: bool = False) -> None:
        self._chunk = chunk
        self._t = t
        self._header = header

    @property
    def contents(self) -> Any:
        chunk = self._chunk
        if not chunk._alive:
            raise ReleasedObjectError("this payload's loan or sample was sent or deleted")
        if self._header:
            at, nbytes = chunk._header_ptr, chunk._header_nbytes
        else:
            at, nbytes = chunk._ptr, chunk._nbytes
        if chunk._writable:
            value = self._t.from_address(at)
        elif _flat(self._t):
            value = read_only(self._t).from_address(at)
        else:
            value = read_only(self._t).from_buffer_copy((ctypes.c_ubyte * nbytes).from_address(at))
        return value

    def __getitem__(self, index: int) -> Any:
        if index != 0:
            raise IndexError("a fixed-size payload has one value, at index 0")
        return self.contents

    def __repr__(self) -> str:
        return "<icefloe payload of %s>" % self._t.__name__


from ._icefloe import ReleasedObjectError  # noqa: E402
