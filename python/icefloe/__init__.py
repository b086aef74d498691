"""icefloe: zero-copy inter-process communication, with iceoryx2's Python API.

A program written for iceoryx2's Python bindings runs on icefloe once
``import iceoryx2 as iox2`` becomes ``import icefloe as iox2``.
"""

from ._icefloe import *  # noqa: F401,F403
from ._icefloe import ReleasedObjectError  # noqa: F401
from .slice import Slice  # noqa: F401
from .type_name import get_type_name  # noqa: F401
