"""The payload of the publish-subscribe and request-response examples: a
`ctypes.Structure` that a Rust `#[repr(C)]` struct of the same fields and
name (`TransmissionData`) also reads."""

import ctypes


class TransmissionData(ctypes.Structure):
    """Two integers and a double, as iceoryx2's examples send them."""

    _fields_ = [
        ("x", ctypes.c_int32),
        ("y", ctypes.c_int32),
        ("funky", ctypes.c_double),
    ]

    def __str__(self) -> str:
        return f"TransmissionData {{ x: {self.x}, y: {self.y}, funky: {self.funky} }}"

    @staticmethod
    def type_name() -> str:
        """The name the service records (and a Rust peer's struct has)."""
        return "TransmissionData"
