//! Links icefloe-core into a `#![no_std]` staticlib (see Cargo.toml).
#![no_std]

use icefloe_core::shm::pool::Pool;
use icefloe_core::sync::AtomicU32;

/// Something for the linker to keep: allocates and frees one chunk.
#[no_mangle]
pub extern "C" fn icefloe_nostd_check(words: *const AtomicU32, n: usize) -> u32 {
    if words.is_null() {
        return u32::MAX;
    }
    // SAFETY: the caller passes `n` valid words.
    let words = unsafe { core::slice::from_raw_parts(words, n) };
    let Some(pool) = Pool::new(words, (n * 32) as u32) else { return u32::MAX };
    match pool.allocate(0) {
        Some(c) => {
            let _ = pool.release(c);
            c
        }
        None => u32::MAX,
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}
