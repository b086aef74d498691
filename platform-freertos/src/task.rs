//! Creating tasks from statically reserved memory (the kernel is built with
//! `configSUPPORT_DYNAMIC_ALLOCATION 0`: there is no heap to take it from).

use crate::ffi::{self, KnownTask};
use core::ffi::CStr;
use core::fmt;

/// The memory one task lives in: its control block and a stack of `STACK`
/// words. Keep it in a `static` (liveness checks read the control block of
/// a task long after it was deleted, so it must never be freed).
#[repr(C, align(8))]
pub struct TaskMemory<const STACK: usize> {
    tcb: [u8; crate::TCB_BYTES],
    stack: [ffi::StackType; STACK],
}

impl<const STACK: usize> TaskMemory<STACK> {
    /// Zeroed memory for one task (usable in a `static`).
    pub const fn new() -> Self {
        Self { tcb: [0; crate::TCB_BYTES], stack: [0; STACK] }
    }
}

impl<const STACK: usize> Default for TaskMemory<STACK> {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a task could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SpawnError {
    /// `priority` is not below `configMAX_PRIORITIES`.
    PriorityTooHigh {
        /// The priority asked for.
        priority: u32,
        /// `configMAX_PRIORITIES`.
        max: u32,
    },
    /// The stack is smaller than the 64 words any port needs.
    StackTooSmall,
    /// The kernel refused (returned no handle).
    Refused,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PriorityTooHigh { priority, max } => {
                write!(f, "task priority {priority} is not below configMAX_PRIORITIES ({max})")
            }
            Self::StackTooSmall => f.write_str("task stack smaller than 64 words"),
            Self::Refused => f.write_str("the kernel refused to create the task"),
        }
    }
}

impl core::error::Error for SpawnError {}

/// A created task. Copyable: it is only the kernel's handle (to a control
/// block in static memory, which stays valid after the task is deleted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task(KnownTask);

impl Task {
    /// The calling task (`None` before the scheduler runs).
    pub fn current() -> Option<Task> {
        KnownTask::current().map(Task)
    }

    /// The kernel's handle, for calling FreeRTOS directly.
    pub fn handle(self) -> ffi::TaskHandle {
        self.0.raw()
    }

    /// The fewest stack words this task has had unused since it started
    /// (`uxTaskGetStackHighWaterMark`; needs
    /// `INCLUDE_uxTaskGetStackHighWaterMark 1`, as in the bundled
    /// configuration): what sizing its [`TaskMemory`] can go by.
    pub fn stack_unused_low_water(self) -> usize {
        self.0.stack_high_water_mark()
    }

    /// Deletes the task (`vTaskDelete`). What it held in icefloe is
    /// reclaimed by the next [`Node::cleanup_dead_nodes`](icefloe_core::Node::cleanup_dead_nodes)
    /// or service open, and its segment mappings by the next segment
    /// operation of any task.
    pub fn delete(self) {
        self.0.delete()
    }
}

/// Creates a task running `entry` at `priority` in `memory`. It starts
/// running once the scheduler runs (at once if it already does and
/// `priority` is higher than the caller's). When `entry` returns, the task
/// deletes itself.
pub fn spawn<const STACK: usize>(
    memory: &'static mut TaskMemory<STACK>,
    name: &CStr,
    priority: u32,
    entry: fn(),
) -> Result<Task, SpawnError> {
    let max = ffi::max_priorities();
    if priority >= max {
        return Err(SpawnError::PriorityTooHigh { priority, max });
    }
    if STACK < 64 {
        return Err(SpawnError::StackTooSmall);
    }
    let TaskMemory { tcb, stack } = memory;
    ffi::create_static(entry, name, priority, stack, tcb).map(Task).ok_or(SpawnError::Refused)
}

/// Runs the scheduler (`vTaskStartScheduler`). Returns only if a task ends
/// it with [`end_scheduler`] (on ports that support that, such as the POSIX
/// simulator).
pub fn start_scheduler() {
    ffi::start_scheduler()
}

/// Ends the scheduler (`vTaskEndScheduler`) from a task; the call does not
/// return to that task.
pub fn end_scheduler() -> ! {
    ffi::end_scheduler();
    // The call may come back (the simulator's port returns when the task's
    // thread had a resume pending); the kernel is stopped, so no kernel
    // call may follow: the task's thread parks for good.
    loop {
        park_forever();
    }
}

#[cfg(icefloe_freertos_posix)]
fn park_forever() {
    ffi::pause_thread();
}

#[cfg(not(icefloe_freertos_posix))]
fn park_forever() {
    core::hint::spin_loop();
}

/// Blocks the calling task for at least `ticks` ticks (`vTaskDelay`).
pub fn delay_ticks(ticks: u32) {
    ffi::delay(ticks as ffi::TickType)
}
