//! Sleeps until events arrive and prints them, until Ctrl-C.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    example_event::run_listener().map(|_| ())
}
