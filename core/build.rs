//! Validates the build-time capacities and hands them to the crate.
use std::env;

fn setting(name: &str, default: u32, range: std::ops::RangeInclusive<u32>) -> u32 {
    println!("cargo:rerun-if-env-changed={name}");
    match env::var(name) {
        Err(_) => default,
        Ok(v) => match v.parse::<u32>() {
            Ok(n) if range.contains(&n) => n,
            _ => panic!("{name}={v} is not a whole number in {}..={}", range.start(), range.end()),
        },
    }
}

fn main() {
    let out = env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let max_pub = setting("ICEFLOE_MAX_PUBLISHERS", 16, 1..=256);
    let max_sub = setting("ICEFLOE_MAX_SUBSCRIBERS", 64, 1..=4096);
    let max_seg = setting("ICEFLOE_MAX_SEGMENTS_PER_PORT", 8, 2..=64);
    let max_active = setting("ICEFLOE_MAX_ACTIVE_REQUESTS", 16, 1..=256);
    let max_type_name = setting("ICEFLOE_MAX_TYPE_NAME_LEN", 256, 8..=256);
    let max_service_name = setting("ICEFLOE_MAX_SERVICE_NAME_LEN", 255, 8..=255);
    let code = format!(
        "/// Publisher slots a service may have (build-time: `ICEFLOE_MAX_PUBLISHERS`, default 16).\n\
         pub const MAX_PUBLISHERS: usize = {max_pub};\n\
         /// Subscriber slots a service may have (build-time: `ICEFLOE_MAX_SUBSCRIBERS`, default 64).\n\
         pub const MAX_SUBSCRIBERS: usize = {max_sub};\n\
         /// Data segments one sending port may have alive at once while its slices grow\n\
         /// (build-time: `ICEFLOE_MAX_SEGMENTS_PER_PORT`, default 8).\n\
         pub const MAX_SEGMENTS_PER_PORT: usize = {max_seg};\n\
         /// Requests one client may have pending at once, the most any request-response service\n\
         /// may set as `max_active_requests_per_client` (build-time: `ICEFLOE_MAX_ACTIVE_REQUESTS`, default 16).\n\
         pub const MAX_ACTIVE_REQUESTS: usize = {max_active};\n\
         /// The longest type name a service records (build-time: `ICEFLOE_MAX_TYPE_NAME_LEN`, default 256).\n\
         pub const MAX_TYPE_NAME_LEN: usize = {max_type_name};\n\
         /// The longest service name (build-time: `ICEFLOE_MAX_SERVICE_NAME_LEN`, default 255).\n\
         pub const MAX_SERVICE_NAME_LEN: usize = {max_service_name};\n"
    );
    std::fs::write(format!("{out}/capacities.rs"), code).expect("OUT_DIR is writable");
}
