//! Publishes growing byte slices once a second (`--count N`, `--period-ms N`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    use example_pubsub_dynamic_data::{arg, run_publisher};
    let period = std::time::Duration::from_millis(arg("--period-ms")?.unwrap_or(1000));
    run_publisher(arg("--count")?, period, arg("--print-every")?.unwrap_or(1))
}
