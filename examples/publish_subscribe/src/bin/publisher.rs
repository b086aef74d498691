//! Publishes a `RobotState` ten times a second until Ctrl-C (or `--count N`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    example_publish_subscribe::run_publisher(
        example_publish_subscribe::count_arg()?,
        std::time::Duration::from_millis(100),
    )
}
