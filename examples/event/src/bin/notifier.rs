//! Sends an event once a second until Ctrl-C (iceoryx2's example).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    example_event::run_notifier(None, std::time::Duration::from_secs(1))
}
