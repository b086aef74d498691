//! Sleeps in a WaitSet until readings arrive, or says so when none came for
//! two seconds, until Ctrl-C.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    example_event_based_communication::run_subscriber(std::time::Duration::from_secs(2)).map(|_| ())
}
