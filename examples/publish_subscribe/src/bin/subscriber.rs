//! Prints every `RobotState` it receives until Ctrl-C (or `--count N`).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    example_publish_subscribe::run_subscriber(example_publish_subscribe::count_arg()?)
}
