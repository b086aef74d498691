//! Payload types given from Python (ctypes types, `Slice[ctype]`), as the
//! service records them.

use crate::basics::TypeVariant;
use icefloe_linux::icefloe_core::{TypeDetail, TypeVariant as Variant};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

/// A payload type: the Python type object, its element type and the
/// description recorded in the service.
pub struct PayloadType {
    /// What the user passed (`c_uint64`, `MyStruct`, `Slice[c_uint8]`).
    pub given: Py<PyAny>,
    /// The ctypes element type (the type itself if fixed-size).
    pub element: Py<PyAny>,
    /// Name, variant, size, alignment.
    pub detail: TypeDetail,
    /// The user header's ctypes type, if the service has one.
    pub header: Option<Py<PyAny>>,
    /// The user header as the service records it (`()` if none).
    pub header_detail: TypeDetail,
}

impl PayloadType {
    /// Describes `t` through `icefloe._payload.describe`.
    pub fn describe(t: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = t.py();
        let (is_slice, name, size, align, element): (bool, String, u32, u32, Bound<'_, PyAny>) =
            py.import("icefloe._payload")?.call_method1("describe", (t,))?.extract()?;
        let variant = if is_slice { Variant::Slice } else { Variant::FixedSize };
        let detail = TypeDetail::new(variant, &name, size, align)
            .map_err(|e| PyTypeError::new_err(format!("{t} cannot be a payload type: {e}")))?;
        Ok(Self {
            given: t.clone().unbind(),
            element: element.unbind(),
            detail,
            header: None,
            header_detail: TypeDetail::of::<()>().expect("the unit type's name fits"),
        })
    }

    /// Gives the payload a user header of ctypes type `t` (fixed-size).
    pub fn set_header(&mut self, t: &Bound<'_, PyAny>) -> PyResult<()> {
        let h = Self::describe(t)?;
        if h.is_slice() {
            return Err(PyTypeError::new_err("a user header is one fixed-size value, not a Slice"));
        }
        self.header_detail = h.detail;
        self.header = Some(t.clone().unbind());
        Ok(())
    }

    /// Refuses knob `knob` (a slice-length or growth setting) for a
    /// fixed-size type.
    pub fn slice_only(&self, knob: &str) -> PyResult<()> {
        if self.is_slice() {
            Ok(())
        } else {
            Err(PyTypeError::new_err(format!("{knob} applies to Slice payloads only; this one is fixed-size")))
        }
    }

    /// Whether this is a slice type.
    pub fn is_slice(&self) -> bool {
        self.detail.variant == Variant::Slice
    }

    /// The same type, another handle to it.
    pub fn clone_ref(&self, py: Python<'_>) -> Self {
        Self {
            given: self.given.clone_ref(py),
            element: self.element.clone_ref(py),
            detail: self.detail.clone(),
            header: self.header.as_ref().map(|h| h.clone_ref(py)),
            header_detail: self.header_detail.clone(),
        }
    }
}

/// A description read back from a service, for Python.
#[pyclass(module = "icefloe", frozen)]
pub struct TypeDetailView {
    /// The type's name.
    #[pyo3(get)]
    pub type_name: String,
    /// Size in bytes (of an element, for slices).
    #[pyo3(get)]
    pub size: u32,
    /// Alignment in bytes.
    #[pyo3(get)]
    pub alignment: u32,
    /// Fixed-size or slice.
    #[pyo3(get)]
    pub type_variant: TypeVariant,
}

impl TypeDetailView {
    /// The view of `d`.
    pub fn of(d: &TypeDetail) -> Self {
        Self {
            type_name: d.name.as_str().to_owned(),
            size: d.size,
            alignment: d.align,
            type_variant: if d.variant == Variant::Slice { TypeVariant::Dynamic } else { TypeVariant::FixedSize },
        }
    }
}

#[pymethods]
impl TypeDetailView {
    fn __repr__(&self) -> String {
        format!(
            "TypeDetail(type_name={:?}, size={}, alignment={}, type_variant={:?})",
            self.type_name, self.size, self.alignment, self.type_variant
        )
    }
}
