//! The payload shared by the publish-subscribe example's two programs.

use icefloe_linux::ZeroCopySend;

/// A made-up robot state: what a controller might publish at 100 Hz.
#[derive(Debug, Clone, Copy, Default, ZeroCopySend)]
#[repr(C)]
pub struct RobotState {
    /// Sequence number.
    pub counter: u64,
    /// Position in metres.
    pub position: [f64; 3],
    /// Battery charge in percent.
    pub battery: f32,
}

/// The service both programs use.
pub const SERVICE: &str = "examples/robot_state";
