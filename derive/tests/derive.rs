//! What `#[derive(ZeroCopySend)]` accepts and what it refuses.

use icefloe_core::zero_copy::{type_name_of, TypeDetail};
use icefloe_core::ZeroCopySend;

#[derive(ZeroCopySend)]
#[repr(C)]
struct Plain {
    a: u32,
    b: [f64; 2],
}

#[derive(ZeroCopySend)]
#[repr(C)]
struct Generic<T: Copy, const N: usize> {
    items: [T; N],
}

#[derive(ZeroCopySend)]
#[repr(C)]
#[icefloe(type_name = "robot::Pose")]
struct Renamed(f32);

#[derive(ZeroCopySend)]
#[repr(C)]
#[icefloe(type_name_with_path)]
struct WithPath(u8);

#[derive(ZeroCopySend)]
#[repr(C, align(64))]
struct Aligned(u64);

mod other_crate_stand_in {
    #[derive(icefloe_core::ZeroCopySend)]
    #[repr(C)]
    pub struct Plain {
        pub a: u32,
        pub b: [f64; 2],
    }
}

#[test]
fn names_do_not_depend_on_the_crate_path() {
    assert_eq!(type_name_of::<Plain>().as_str(), "Plain");
    assert_eq!(type_name_of::<other_crate_stand_in::Plain>().as_str(), "Plain");
    assert_eq!(TypeDetail::of::<Plain>().unwrap(), TypeDetail::of::<other_crate_stand_in::Plain>().unwrap());
}

#[test]
fn names_can_be_chosen_or_include_the_path() {
    assert_eq!(type_name_of::<Renamed>().as_str(), "robot::Pose");
    assert_eq!(type_name_of::<WithPath>().as_str(), "derive::WithPath");
    assert_eq!(type_name_of::<Generic<u16, 4>>().as_str(), "Generic<u16, 4>");
    assert_eq!(TypeDetail::of::<Aligned>().unwrap().align, 64);
    let _ = (Plain { a: 0, b: [0.0; 2] }.a, Generic::<u8, 1> { items: [0] }.items, Renamed(0.0).0, WithPath(0).0);
}

#[test]
fn refusals_are_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
