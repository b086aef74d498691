//! Sleeps until events arrive and prints them, until Ctrl-C.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    example_event::run_listener().map(|_| ())
}
