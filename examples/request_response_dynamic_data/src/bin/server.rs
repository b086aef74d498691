//! The server of the request-response dynamic-data example (Ctrl-C ends it).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // RUST_LOG=info shows what icefloe reports (dead nodes reclaimed, stalled or corrupt peers).
    env_logger::init();
    example_request_response_dynamic_data::run_server(example_request_response_dynamic_data::Settings::from_args()?)
}
