//! Sends a reading once a second until Ctrl-C, sleeping in a WaitSet.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    example_event_based_communication::run_publisher(None, std::time::Duration::from_secs(1))
}
