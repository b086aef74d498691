#[derive(icefloe_core::ZeroCopySend)]
#[repr(C)]
struct HasPointer {
    a: u32,
    b: &'static str,
}

#[derive(icefloe_core::ZeroCopySend)]
#[repr(C)]
struct HasBox {
    a: Box<u32>,
}

fn main() {}
