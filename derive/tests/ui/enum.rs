#[derive(icefloe_core::ZeroCopySend)]
#[repr(C)]
enum Mode {
    Idle,
    Run,
}

fn main() {}
