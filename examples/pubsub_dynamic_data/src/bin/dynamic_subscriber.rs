//! Receives and checks growing byte slices (`--count N`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    use example_pubsub_dynamic_data::{arg, run_subscriber};
    run_subscriber(arg("--count")?, arg("--print-every")?.unwrap_or(1))
}
