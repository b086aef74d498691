//! The buffer protocol for payloads (`memoryview(sample.payload())`,
//! `numpy.frombuffer`), on every CPython the abi3 wheel serves (3.9 on).
//!
//! pyo3 offers `__getbuffer__` under the stable ABI only from Python 3.11,
//! where `Py_buffer` and the `Py_bf_*` slots joined the limited API. Both
//! are older than that: CPython accepts the two slots in `PyType_FromSpec`
//! since 3.9, and `Py_buffer` has had this layout since 3.3 (3.11 froze
//! it). So this module builds one small type, `_Buffer`, with those slots by
//! hand. It holds the chunk it exports; each export asks the chunk for its
//! memory (which counts the export and refuses a chunk already returned)
//! and gives it back on release. `icefloe.Slice` derives from it.

use crate::chunk::Chunk;
use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::{c_char, c_int, c_void};
use std::ptr;

/// `Py_buffer`, as CPython 3.3 and later lay it out.
#[repr(C)]
struct RawBuffer {
    buf: *mut c_void,
    obj: *mut ffi::PyObject,
    len: ffi::Py_ssize_t,
    itemsize: ffi::Py_ssize_t,
    readonly: c_int,
    ndim: c_int,
    format: *mut c_char,
    shape: *mut ffi::Py_ssize_t,
    strides: *mut ffi::Py_ssize_t,
    suboffsets: *mut ffi::Py_ssize_t,
    internal: *mut c_void,
}

extern "C" {
    /// Fills a one-dimensional byte buffer (format `B`) of `obj`.
    fn PyBuffer_FillInfo(
        view: *mut RawBuffer,
        obj: *mut ffi::PyObject,
        buf: *mut c_void,
        len: ffi::Py_ssize_t,
        readonly: c_int,
        flags: c_int,
    ) -> c_int;
}

/// The slot numbers of `bf_getbuffer` and `bf_releasebuffer` (typeslots.h,
/// unchanged since they were numbered).
const PY_BF_GETBUFFER: c_int = 1;
const PY_BF_RELEASEBUFFER: c_int = 2;

/// The object layout of `_Buffer`: the header and the exported chunk.
#[repr(C)]
struct Exporter {
    ob_base: ffi::PyObject,
    owner: *mut ffi::PyObject,
}

/// `_Buffer(chunk, ...)`: keeps `chunk` (the first argument; the rest are
/// a subclass's `__init__`'s).
unsafe extern "C" fn new(
    subtype: *mut ffi::PyTypeObject,
    args: *mut ffi::PyObject,
    _kw: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: CPython calls tp_new with the GIL held, a type object and an
    // argument tuple; the alloc slot of any type is an allocfunc.
    unsafe {
        if ffi::PyTuple_Size(args) < 1 {
            ffi::PyErr_SetString(ffi::PyExc_TypeError, c"_Buffer needs the chunk it exports".as_ptr());
            return ptr::null_mut();
        }
        let owner = ffi::PyTuple_GetItem(args, 0);
        let alloc: ffi::allocfunc = std::mem::transmute(ffi::PyType_GetSlot(subtype, ffi::Py_tp_alloc));
        let obj = alloc(subtype, 0);
        if obj.is_null() {
            return obj;
        }
        ffi::Py_INCREF(owner);
        (*obj.cast::<Exporter>()).owner = owner;
        obj
    }
}

unsafe extern "C" fn dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls tp_dealloc once, with the GIL held, on an object
    // of a type laid out as `Exporter`; a heap type's instances hold a
    // reference to it, given back after the memory is freed.
    unsafe {
        let owner = std::mem::replace(&mut (*obj.cast::<Exporter>()).owner, ptr::null_mut());
        if !owner.is_null() {
            ffi::Py_DECREF(owner);
        }
        let tp = ffi::Py_TYPE(obj);
        let free: ffi::freefunc = std::mem::transmute(ffi::PyType_GetSlot(tp, ffi::Py_tp_free));
        free(obj.cast());
        ffi::Py_DECREF(tp.cast());
    }
}

unsafe extern "C" fn get_buffer(obj: *mut ffi::PyObject, view: *mut RawBuffer, flags: c_int) -> c_int {
    // SAFETY: called with the GIL held on an `Exporter`, whose owner is set
    // by `new` (the constructor refuses to run without one).
    unsafe {
        let py = Python::assume_attached();
        let owner = Bound::from_borrowed_ptr(py, (*obj.cast::<Exporter>()).owner);
        let acquired = owner.cast::<Chunk>().map_err(PyErr::from).and_then(|c| c.try_borrow_mut()?.buffer_acquire());
        let (at, len, readonly) = match acquired {
            Ok(v) => v,
            Err(e) => {
                e.restore(py);
                return -1;
            }
        };
        let len = ffi::Py_ssize_t::try_from(len).unwrap_or(ffi::Py_ssize_t::MAX);
        if PyBuffer_FillInfo(view, obj, at as *mut c_void, len, c_int::from(readonly), flags) != 0 {
            // Refused (a writable buffer of a received chunk): not exported.
            if let Ok(c) = owner.cast::<Chunk>() {
                if let Ok(mut c) = c.try_borrow_mut() {
                    c.buffer_release();
                }
            }
            return -1;
        }
        0
    }
}

unsafe extern "C" fn release_buffer(obj: *mut ffi::PyObject, _view: *mut RawBuffer) {
    // SAFETY: as for `get_buffer`.
    unsafe {
        let py = Python::assume_attached();
        let owner = Bound::from_borrowed_ptr(py, (*obj.cast::<Exporter>()).owner);
        // The owner is always a chunk (`get_buffer` exported nothing else),
        // and no Python code runs here, so an exception being raised (a
        // caller refusing the buffer it got) stays as it is.
        if let Ok(c) = owner.cast::<Chunk>() {
            match c.try_borrow_mut() {
                Ok(mut c) => c.buffer_release(),
                Err(e) => PyErr::from(e).write_unraisable(py, Some(&owner)),
            }
        }
    }
}

/// Creates the `_Buffer` type.
pub fn make_type(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    let mut slots = [
        ffi::PyType_Slot { slot: ffi::Py_tp_new, pfunc: new as *mut c_void },
        ffi::PyType_Slot { slot: ffi::Py_tp_dealloc, pfunc: dealloc as *mut c_void },
        ffi::PyType_Slot { slot: PY_BF_GETBUFFER, pfunc: get_buffer as *mut c_void },
        ffi::PyType_Slot { slot: PY_BF_RELEASEBUFFER, pfunc: release_buffer as *mut c_void },
        ffi::PyType_Slot { slot: 0, pfunc: ptr::null_mut() },
    ];
    let mut spec = ffi::PyType_Spec {
        // A heap type keeps pointing at its spec's name: a static string.
        name: c"icefloe._icefloe._Buffer".as_ptr(),
        basicsize: c_int::try_from(std::mem::size_of::<Exporter>()).expect("a small struct"),
        itemsize: 0,
        flags: (ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_BASETYPE) as std::ffi::c_uint,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: the spec and its slots are valid for the call (CPython copies
    // the slots; the name is static); every slot function has the signature
    // its slot number calls for.
    unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyType_FromSpec(&mut spec)) }
}
