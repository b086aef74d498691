//! Relocatable references: a fixed-width `(segment, offset)` pair, never a
//! pointer, resolved against the local mapping with bounds and alignment
//! checks.

use core::fmt;

/// A reference into a segment: the segment's id and a byte offset from its
/// start. Eight bytes on every target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RelPtr {
    /// Which segment (its id within the sending port).
    pub segment: u32,
    /// Byte offset from the segment's first byte.
    pub offset: u32,
}

/// Why a [`RelPtr`] did not resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RelPtrError {
    /// It names a segment other than the expected one.
    UnknownSegment,
    /// The referenced range ends outside the segment.
    OutOfBounds,
    /// The offset is not aligned as the target requires.
    Misaligned,
}

impl fmt::Display for RelPtrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownSegment => "reference names an unknown segment",
            Self::OutOfBounds => "reference points outside its segment",
            Self::Misaligned => "reference is misaligned",
        })
    }
}

impl core::error::Error for RelPtrError {}

impl RelPtr {
    /// Packs into one `u64` (segment in the high half).
    #[inline]
    pub const fn to_u64(self) -> u64 {
        ((self.segment as u64) << 32) | self.offset as u64
    }

    /// Unpacks from [`to_u64`](Self::to_u64).
    #[inline]
    pub const fn from_u64(v: u64) -> Self {
        Self { segment: (v >> 32) as u32, offset: v as u32 }
    }

    /// Checks that this reference names `segment` and that `size` bytes at
    /// its offset, aligned to `align` (a power of two), lie within `len`
    /// bytes. Returns the offset as `usize`.
    #[inline]
    pub fn resolve(self, segment: u32, len: usize, size: usize, align: usize) -> Result<usize, RelPtrError> {
        if self.segment != segment {
            return Err(RelPtrError::UnknownSegment);
        }
        let off = self.offset as usize;
        if off.checked_add(size).is_none_or(|end| end > len) {
            return Err(RelPtrError::OutOfBounds);
        }
        if align == 0 || off & (align - 1) != 0 {
            return Err(RelPtrError::Misaligned);
        }
        Ok(off)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_checks() {
        let p = RelPtr { segment: 7, offset: 128 };
        assert_eq!(RelPtr::from_u64(p.to_u64()), p);
        assert_eq!(p.resolve(7, 256, 128, 64), Ok(128));
        assert_eq!(p.resolve(6, 256, 8, 8), Err(RelPtrError::UnknownSegment));
        assert_eq!(p.resolve(7, 200, 128, 8), Err(RelPtrError::OutOfBounds));
        assert_eq!(p.resolve(7, 256, 8, 256), Err(RelPtrError::Misaligned));
        let far = RelPtr { segment: 0, offset: u32::MAX };
        assert_eq!(far.resolve(0, usize::MAX, usize::MAX, 1), Err(RelPtrError::OutOfBounds));
    }
}
