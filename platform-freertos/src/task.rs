//! Creating tasks from statically reserved memory (the kernel is built with
//! `configSUPPORT_DYNAMIC_ALLOCATION 0`: there is no heap to take it from).

use crate::ffi;
use core::ffi::{c_void, CStr};
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

/// A created task. Copyable: it is only the kernel's handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Task(ffi::TaskHandle);

// SAFETY: a task handle is an address the kernel accepts from any task.
unsafe impl Send for Task {}
// SAFETY: as above.
unsafe impl Sync for Task {}

impl Task {
    /// The calling task (`None` before the scheduler runs).
    pub fn current() -> Option<Task> {
        // SAFETY: plain kernel call.
        let handle = unsafe { ffi::xTaskGetCurrentTaskHandle() };
        (!handle.is_null()).then_some(Task(handle))
    }

    /// The kernel's handle, for calling FreeRTOS directly.
    pub fn handle(self) -> ffi::TaskHandle {
        self.0
    }

    /// The fewest stack words this task has had unused since it started
    /// (`uxTaskGetStackHighWaterMark`; needs
    /// `INCLUDE_uxTaskGetStackHighWaterMark 1`, as in the bundled
    /// configuration): what sizing its [`TaskMemory`] can go by.
    pub fn stack_unused_low_water(self) -> usize {
        // SAFETY: the handle came from `xTaskCreateStatic` and its memory
        // is `'static`.
        unsafe { ffi::uxTaskGetStackHighWaterMark(self.0) as usize }
    }

    /// Deletes the task (`vTaskDelete`). What it held in icefloe is
    /// reclaimed by the next [`Node::cleanup_dead_nodes`](icefloe_core::Node::cleanup_dead_nodes)
    /// or service open, and its segment mappings by the next segment
    /// operation of any task.
    pub fn delete(self) {
        // SAFETY: the handle came from `xTaskCreateStatic`; its memory is
        // `'static`, so even a task that already ended is a valid TCB.
        unsafe { ffi::vTaskDelete(self.0) }
    }
}

unsafe extern "C-unwind" fn trampoline(entry: *mut c_void) {
    // SAFETY: `spawn` passed a `fn()` cast to a data pointer (same size on
    // every target FreeRTOS runs on).
    let entry: fn() = unsafe { core::mem::transmute::<*mut c_void, fn()>(entry) };
    entry();
    // A FreeRTOS task must not return: it deletes itself.
    // SAFETY: deleting the calling task (NULL) is always allowed.
    unsafe { ffi::vTaskDelete(core::ptr::null_mut()) }
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
    // SAFETY: a constant the shim defines.
    let max = unsafe { ffi::icefloe_freertos_max_priorities };
    if priority >= max {
        return Err(SpawnError::PriorityTooHigh { priority, max });
    }
    if STACK < 64 {
        return Err(SpawnError::StackTooSmall);
    }
    // SAFETY: `memory` is exclusively ours for ever ('static, &mut): the
    // stack and control block are handed to the kernel, which owns them
    // from now on; the TCB area is large and aligned enough (checked at
    // build time against sizeof(StaticTask_t)); the name is copied.
    let handle = unsafe {
        ffi::xTaskCreateStatic(
            trampoline,
            name.as_ptr(),
            STACK as u32,
            entry as *mut c_void,
            priority as ffi::UBaseType,
            memory.stack.as_mut_ptr(),
            memory.tcb.as_mut_ptr().cast(),
        )
    };
    if handle.is_null() {
        Err(SpawnError::Refused)
    } else {
        Ok(Task(handle))
    }
}

/// Runs the scheduler (`vTaskStartScheduler`). Returns only if a task ends
/// it with [`end_scheduler`] (on ports that support that, such as the POSIX
/// simulator).
pub fn start_scheduler() {
    // SAFETY: plain kernel call; the idle task's memory is provided by the
    // kernel (configKERNEL_PROVIDED_STATIC_MEMORY).
    unsafe { ffi::vTaskStartScheduler() }
}

/// Ends the scheduler (`vTaskEndScheduler`) from a task; the call does not
/// return to that task.
pub fn end_scheduler() -> ! {
    // SAFETY: plain kernel call.
    unsafe { ffi::vTaskEndScheduler() };
    // The call may come back (the simulator's port returns when the task's
    // thread had a resume pending); the kernel is stopped, so no kernel
    // call may follow: the task's thread parks for good.
    loop {
        park_forever();
    }
}

#[cfg(icefloe_freertos_posix)]
fn park_forever() {
    extern "C" {
        fn pause() -> core::ffi::c_int;
    }
    // SAFETY: `pause` only blocks the calling thread until a signal.
    unsafe { pause() };
}

#[cfg(not(icefloe_freertos_posix))]
fn park_forever() {
    core::hint::spin_loop();
}

/// Blocks the calling task for at least `ticks` ticks (`vTaskDelay`).
pub fn delay_ticks(ticks: u32) {
    // SAFETY: plain kernel call from a task.
    unsafe { ffi::vTaskDelay(ticks as ffi::TickType) }
}
