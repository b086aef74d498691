//! What may travel through shared memory, and how its type is named.
//!
//! A payload type must be self-contained (no pointers, no references, no heap)
//! and have one layout in every process: `#[repr(C)]` structs of such fields,
//! primitives, and arrays of them. [`ZeroCopySend`] marks these types; derive
//! it with `#[derive(ZeroCopySend)]`, which refuses non-`repr(C)` structs and
//! fields that are not `ZeroCopySend` at compile time.
//!
//! Every type has a stable **type name** that both sides of a service compare
//! (with size and alignment) on open. A derived struct is named by its
//! identifier alone (`"Position"`), not by its crate path, so two crates that
//! declare the same struct can talk. Name it explicitly with
//! `#[icefloe(type_name = "my::Position")]`, or include the module path with
//! `#[icefloe(type_name_with_path)]`.
//!
//! Every payload type is one for which every bit pattern is a valid value
//! (integers, floats, arrays and `repr(C)` structs of them): the bytes a
//! receiver reads are whatever the sender wrote, and a peer may be corrupt or
//! hostile. `bool`, `char` and enums are therefore not `ZeroCopySend`.

use core::fmt;
use core::mem::{align_of, size_of};
use heapless::String;

/// The longest type name a service records, in bytes: 256 unless the build
/// sets `ICEFLOE_MAX_TYPE_NAME_LEN` lower (every service handle keeps its
/// types' names, so a microcontroller build saves stack with, say, 64). The
/// shared-memory slot is 256 bytes whatever the build: a service recorded
/// by a build with longer names opens with `ExceedsBuildLimit`.
pub const MAX_TYPE_NAME_LEN: usize = crate::config::MAX_TYPE_NAME_LEN;

/// Marks a type whose values may be shared through memory mapped by other
/// processes, and names it.
///
/// Not implemented for `bool` and `char` (nor for enums): a peer can write
/// any bytes into shared memory, and a `bool` holding 2 or a `char` that is
/// no Unicode scalar value is undefined behaviour the moment a receiver
/// reads it. Send `u8` / `u32` and convert on the receiving side.
///
/// # Safety
///
/// The implementing type must be self-contained: no pointers, references or
/// handles to process-local resources, a layout fixed by `#[repr(C)]` (or a
/// primitive), and no drop glue that matters (receivers never drop it).
/// **Every bit pattern must be a valid value** (padding aside): receivers
/// read whatever bytes a sender, perhaps a corrupt or hostile one, left
/// there, and a user header is zero-filled at loan, before the user writes
/// it, so all-zero bytes are read as a value too (implied by the former).
/// `write_type_name` must name the type the same way in every process.
pub unsafe trait ZeroCopySend: Sized + 'static {
    /// Writes the type's stable name.
    fn write_type_name(w: &mut dyn fmt::Write) -> fmt::Result;

    /// Whether the type's size is the one its service records rather than
    /// its own: [`Opaque`] only (a type described at run time).
    #[doc(hidden)]
    const DESCRIBED_AT_RUN_TIME: bool = false;
}

macro_rules! primitive {
    ($($t:ty),*) => {$(
        // SAFETY: a primitive is plain bytes with a fixed layout, and every
        // bit pattern is a value of it (integers and IEEE floats).
        unsafe impl ZeroCopySend for $t {
            fn write_type_name(w: &mut dyn fmt::Write) -> fmt::Result {
                w.write_str(stringify!($t))
            }
        }
    )*};
}
primitive!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128, f32, f64);

// SAFETY: the unit type has no bytes at all.
unsafe impl ZeroCopySend for () {
    fn write_type_name(w: &mut dyn fmt::Write) -> fmt::Result {
        w.write_str("()")
    }
}

// SAFETY: an array of self-contained elements is self-contained, and its
// layout is fixed by the language.
unsafe impl<T: ZeroCopySend, const N: usize> ZeroCopySend for [T; N] {
    fn write_type_name(w: &mut dyn fmt::Write) -> fmt::Result {
        w.write_char('[')?;
        T::write_type_name(w)?;
        write!(w, "; {N}]")
    }
}

/// The element of a payload whose type is described at run time instead of
/// by a Rust type: what language bindings (Python, C) build services of.
///
/// A service of `[Opaque]` records the [`TypeDetail`] given to its builder
/// (`payload_type_detail`, a fixed-size type or a slice of elements, with
/// the name, size and alignment another language's type has), so it opens
/// against a Rust service of `T` or `[T]` with that layout and name. Its
/// loans and samples are bytes: `payload_bytes` / `payload_bytes_mut` give
/// the whole payload (length × the recorded element size). `Opaque` itself
/// has no bytes, so `Deref` on such a loan reads nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Opaque {
    _none: [u8; 0],
}

// SAFETY: a zero-sized type has no bytes to be invalid.
unsafe impl ZeroCopySend for Opaque {
    fn write_type_name(w: &mut dyn fmt::Write) -> fmt::Result {
        w.write_str("icefloe::Opaque")
    }
    const DESCRIBED_AT_RUN_TIME: bool = true;
}

/// A service's payload: one `ZeroCopySend` value, or a slice `[T]` of them
/// whose length is chosen per loan.
///
/// # Safety
///
/// `from_raw_parts` must build a reference to exactly `len` elements (one for
/// a fixed-size payload) at `ptr`, nothing more.
pub unsafe trait Payload: 'static {
    /// The element type (the type itself for fixed-size payloads).
    type Element: ZeroCopySend;
    /// Whether this is a slice payload.
    const IS_SLICE: bool;

    /// Builds a shared reference to the payload.
    ///
    /// # Safety
    ///
    /// `ptr` must point to `len` initialized elements valid for `'a`.
    unsafe fn from_raw_parts<'a>(ptr: *const Self::Element, len: usize) -> &'a Self;

    /// Builds an exclusive reference to the payload.
    ///
    /// # Safety
    ///
    /// `ptr` must point to `len` initialized elements valid and unaliased for `'a`.
    unsafe fn from_raw_parts_mut<'a>(ptr: *mut Self::Element, len: usize) -> &'a mut Self;
}

// SAFETY: one element at `ptr`.
unsafe impl<T: ZeroCopySend> Payload for T {
    type Element = T;
    const IS_SLICE: bool = false;
    unsafe fn from_raw_parts<'a>(ptr: *const T, _len: usize) -> &'a T {
        // SAFETY: the caller guarantees one valid element at `ptr`.
        unsafe { &*ptr }
    }
    unsafe fn from_raw_parts_mut<'a>(ptr: *mut T, _len: usize) -> &'a mut T {
        // SAFETY: the caller guarantees one valid, unaliased element at `ptr`.
        unsafe { &mut *ptr }
    }
}

// SAFETY: `len` elements at `ptr`.
unsafe impl<T: ZeroCopySend> Payload for [T] {
    type Element = T;
    const IS_SLICE: bool = true;
    unsafe fn from_raw_parts<'a>(ptr: *const T, len: usize) -> &'a [T] {
        // SAFETY: the caller guarantees `len` valid elements at `ptr`.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }
    unsafe fn from_raw_parts_mut<'a>(ptr: *mut T, len: usize) -> &'a mut [T] {
        // SAFETY: the caller guarantees `len` valid, unaliased elements at `ptr`.
        unsafe { core::slice::from_raw_parts_mut(ptr, len) }
    }
}

/// Marks a port or builder with its payload and user-header types without
/// owning either (covariant, `Send`-neutral, works for unsized payloads).
pub(crate) type TypeMarker<T, H> = core::marker::PhantomData<(fn() -> *const T, H)>;

/// Fixed-size or slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TypeVariant {
    /// One value per sample.
    FixedSize = 1,
    /// A slice of elements per sample; size and alignment are the element's.
    Slice = 2,
}

/// What a service records of a type: name, variant, size and alignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDetail {
    /// Fixed-size or slice.
    pub variant: TypeVariant,
    /// The stable type name (of the element, for slices).
    pub name: String<MAX_TYPE_NAME_LEN>,
    /// Size in bytes (of the element, for slices).
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
}

/// A type's name does not fit [`MAX_TYPE_NAME_LEN`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TypeNameTooLong;

/// Why [`TypeDetail::new`] refused a description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InvalidTypeDetail {
    /// The name does not fit [`MAX_TYPE_NAME_LEN`] bytes.
    NameTooLong,
    /// The alignment is not a power of two up to 4096, or the size is not a
    /// multiple of it.
    Layout,
}

impl fmt::Display for InvalidTypeDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NameTooLong => "the type name is longer than a service can record",
            Self::Layout => "the alignment is not a power of two up to 4096, or the size is not a multiple of it",
        })
    }
}

impl TypeDetail {
    /// Describes a payload type.
    pub fn of_payload<P: Payload + ?Sized>() -> Result<Self, TypeNameTooLong> {
        let mut name = String::new();
        P::Element::write_type_name(&mut name).map_err(|_| TypeNameTooLong)?;
        Ok(Self {
            variant: if P::IS_SLICE { TypeVariant::Slice } else { TypeVariant::FixedSize },
            name,
            size: u32::try_from(size_of::<P::Element>()).map_err(|_| TypeNameTooLong)?,
            align: align_of::<P::Element>() as u32,
        })
    }

    /// Describes a type named at run time (by a binding): `size` and `align`
    /// of the element for a slice. Fails if the name is too long, `align`
    /// is not a power of two up to 4096, or `size` is not a multiple of it.
    pub fn new(variant: TypeVariant, name: &str, size: u32, align: u32) -> Result<Self, InvalidTypeDetail> {
        let name = String::try_from(name).map_err(|_| InvalidTypeDetail::NameTooLong)?;
        if !align.is_power_of_two() || align > 4096 || size % align != 0 {
            return Err(InvalidTypeDetail::Layout);
        }
        Ok(Self { variant, name, size, align })
    }

    /// Describes a fixed-size type (a user header).
    pub fn of<T: ZeroCopySend>() -> Result<Self, TypeNameTooLong> {
        Self::of_payload::<T>()
    }
}

/// Writes a type's name into a fixed buffer (handy for messages and tests).
pub fn type_name_of<T: ZeroCopySend>() -> String<MAX_TYPE_NAME_LEN> {
    let mut s = String::new();
    let _ = T::write_type_name(&mut s);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_and_array_names() {
        assert_eq!(type_name_of::<u64>().as_str(), "u64");
        assert_eq!(type_name_of::<[[u8; 4]; 2]>().as_str(), "[[u8; 4]; 2]");
        assert_eq!(type_name_of::<()>().as_str(), "()");
    }

    #[test]
    fn slice_detail_describes_element() {
        let d = TypeDetail::of_payload::<[u32]>().unwrap();
        assert_eq!(d.variant, TypeVariant::Slice);
        assert_eq!((d.name.as_str(), d.size, d.align), ("u32", 4, 4));
        let d = TypeDetail::of_payload::<[u16; 3]>().unwrap();
        assert_eq!(d.variant, TypeVariant::FixedSize);
        assert_eq!(d.size, 6);
    }
}
