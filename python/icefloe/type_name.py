"""How a Python payload type is named in a service (as iceoryx2 names it)."""

import ctypes
from typing import Any

_UNSIGNED = "BHILQ"
_SIGNED = "bhilq"


def get_type_name(t: Any) -> str:
    """The name a service records for ``t``: ``t.type_name()`` if it defines
    it; for a ctypes integer or float the Rust name of its size (``c_uint64``
    and ``c_ulong`` are ``u64``, ``c_double`` is ``f64``); ``[u8; 4]`` for
    ``c_uint8 * 4``; else the class name."""
    if hasattr(t, "type_name"):
        return t.type_name()
    if isinstance(t, type) and issubclass(t, ctypes._SimpleCData):
        code = t._type_
        bits = 8 * ctypes.sizeof(t)
        if code in _UNSIGNED:
            return "u%d" % bits
        if code in _SIGNED:
            return "i%d" % bits
        if code in "fd":
            return "f%d" % bits
        if code == "?":
            return "bool"
    if isinstance(t, type) and issubclass(t, ctypes.Array):
        return "[%s; %d]" % (get_type_name(t._type_), t._length_)
    return t.__name__
