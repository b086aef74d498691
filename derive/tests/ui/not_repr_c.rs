#[derive(icefloe_core::ZeroCopySend)]
struct NoRepr {
    a: u32,
}

fn main() {}
