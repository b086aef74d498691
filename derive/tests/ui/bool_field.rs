// A bool (or char) field is refused: a peer may write any byte into shared
// memory, and a bool holding 2 is undefined behaviour when read.
#[derive(icefloe_core::ZeroCopySend)]
#[repr(C)]
struct Flags {
    ready: bool,
    count: u32,
}

fn main() {}
