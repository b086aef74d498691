//! Builds the FreeRTOS kernel (sources from the `freertos-next` package, never
//! copied here) with the port the target needs, plus the shim that checks the
//! kernel configuration, and validates the platform's build-time capacities.
use std::env;
use std::path::{Path, PathBuf};

fn setting(name: &str, default: usize, range: std::ops::RangeInclusive<usize>, multiple_of: usize) -> usize {
    println!("cargo:rerun-if-env-changed={name}");
    match env::var(name) {
        Err(_) => default,
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if range.contains(&n) && n % multiple_of == 0 => n,
            _ => panic!(
                "{name}={v} must be a whole number in {}..={}{}",
                range.start(),
                range.end(),
                if multiple_of > 1 { format!(", a multiple of {multiple_of}") } else { String::new() }
            ),
        },
    }
}

/// The `FreeRTOS-Kernel` folder of the `freertos-next` package: from
/// `ICEFLOE_FREERTOS_KERNEL_DIR`, else `DEP_FREERTOS_KERNEL`, else where
/// cargo unpacked the package (it is a build-dependency so that cargo
/// fetches it; it is never linked).
fn kernel_dir() -> PathBuf {
    println!("cargo:rerun-if-env-changed=ICEFLOE_FREERTOS_KERNEL_DIR");
    if let Ok(dir) = env::var("ICEFLOE_FREERTOS_KERNEL_DIR") {
        return PathBuf::from(dir);
    }
    // Given only to crates with a normal dependency on freertos-next, which
    // this one must not have (its library needs `alloc`); honoured when a
    // build adds one.
    if let Ok(dir) = env::var("DEP_FREERTOS_KERNEL") {
        return PathBuf::from(dir);
    }
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    // Every registry's unpacked sources; the newest 0.12.x wins.
    let mut found: Vec<(Vec<u32>, PathBuf)> = Vec::new();
    for registry in std::fs::read_dir(cargo_home.join("registry/src")).into_iter().flatten().flatten() {
        for package in std::fs::read_dir(registry.path()).into_iter().flatten().flatten() {
            let name = package.file_name().to_string_lossy().into_owned();
            if let Some(version) = name.strip_prefix("freertos-next-0.12.") {
                if let Ok(patch) = version.parse::<u32>() {
                    found.push((vec![patch], package.path()));
                }
            }
        }
    }
    found.sort();
    let (_, package) = found.pop().unwrap_or_else(|| {
        panic!(
            "freertos-next 0.12 sources not found under {}/registry/src: run `cargo fetch`, \
             or set ICEFLOE_FREERTOS_KERNEL_DIR to a FreeRTOS-Kernel folder",
            cargo_home.display()
        )
    });
    package.join("FreeRTOS-Kernel")
}

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let target = env::var("TARGET").unwrap();
    let pointer_width: usize = env::var("CARGO_CFG_TARGET_POINTER_WIDTH").unwrap().parse().unwrap();

    let arena = setting("ICEFLOE_FREERTOS_ARENA_BYTES", 64 * 1024, 1024..=(1 << 30), 64);
    let segments = setting("ICEFLOE_FREERTOS_SEGMENTS", 16, 2..=1024, 1);
    let tasks = setting("ICEFLOE_FREERTOS_TASKS", 16, 1..=1024, 1);
    let mappings = setting("ICEFLOE_FREERTOS_MAPPINGS", 64, 2..=4096, 1);
    let tcb_bytes = if pointer_width == 64 { 384 } else { 192 };
    std::fs::write(
        out.join("settings.rs"),
        format!(
            "/// Bytes of the static arena segments are carved from (build-time: `ICEFLOE_FREERTOS_ARENA_BYTES`, default 65536).\n\
             pub const ARENA_BYTES: usize = {arena};\n\
             /// Segments the arena holds at once (build-time: `ICEFLOE_FREERTOS_SEGMENTS`, default 16).\n\
             pub const ARENA_SEGMENTS: usize = {segments};\n\
             /// Tasks that may use icefloe at once (build-time: `ICEFLOE_FREERTOS_TASKS`, default 16).\n\
             pub const MAX_TASKS: usize = {tasks};\n\
             /// Segment mappings alive at once, over all tasks (build-time: `ICEFLOE_FREERTOS_MAPPINGS`, default 64).\n\
             pub const MAX_MAPPINGS: usize = {mappings};\n\
             /// Bytes [`TaskMemory`](crate::task::TaskMemory) reserves for a task control block.\n\
             pub const TCB_BYTES: usize = {tcb_bytes};\n"
        ),
    )
    .unwrap();

    let kernel = kernel_dir();
    println!("cargo:rerun-if-env-changed=ICEFLOE_FREERTOS_CONFIG_DIR");
    let config = env::var("ICEFLOE_FREERTOS_CONFIG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("config"));
    println!("cargo:rerun-if-changed={}", config.join("FreeRTOSConfig.h").display());
    println!("cargo:rerun-if-changed=c/icefloe_shim.c");

    let (port, posix) = if target.starts_with("thumbv7m-") || target == "thumbv7em-none-eabi" {
        ("portable/GCC/ARM_CM3", false)
    } else if target == "thumbv7em-none-eabihf" {
        ("portable/GCC/ARM_CM4F", false)
    } else if env::var("CARGO_CFG_TARGET_FAMILY").as_deref() == Ok("unix") {
        ("portable/ThirdParty/GCC/Posix", true)
    } else {
        panic!(
            "icefloe-freertos has no FreeRTOS port chosen for {target}: \
             Cortex-M3/M4(F) (thumbv7m, thumbv7em) and the POSIX simulator (unix hosts) are built in"
        );
    };
    let port = kernel.join(port);

    let mut build = cc::Build::new();
    build
        .include(&config)
        .include(kernel.join("include"))
        .include(&port)
        .define("ICEFLOE_TCB_BYTES", tcb_bytes.to_string().as_str())
        .warnings(false)
        .flag_if_supported("-fno-common");
    for f in ["tasks.c", "list.c", "queue.c"] {
        build.file(kernel.join(f));
    }
    build.file(port.join("port.c")).file("c/icefloe_shim.c");
    if posix {
        build
            .define("ICEFLOE_FREERTOS_POSIX", None)
            .include(port.join("utils"))
            .file(port.join("utils/wait_for_event.c"));
        println!("cargo:rustc-link-lib=pthread");
        println!("cargo:rustc-cfg=icefloe_freertos_posix");
    }
    build.compile("icefloe_freertos_kernel");
    println!("cargo:rustc-check-cfg=cfg(icefloe_freertos_posix)");
}
