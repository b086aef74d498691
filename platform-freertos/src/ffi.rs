//! The FreeRTOS kernel functions icefloe calls: the real functions behind
//! the kernel's macros (`xTaskNotifyGive` is `xTaskGenericNotify`, and so
//! on). The C types they use are checked against these declarations when the
//! kernel is built (`c/icefloe_shim.c`): `BaseType_t` is `long`,
//! `UBaseType_t`, `TickType_t` and `StackType_t` are `unsigned long`,
//! `configSTACK_DEPTH_TYPE` is 32 bits, enums are at most `int` (shorter
//! enums, as arm-none-eabi-gcc makes them, are extended to a full register
//! when passed or returned, so `c_int` reads and passes them correctly).
#![allow(non_snake_case, non_upper_case_globals, missing_docs)]

use core::ffi::{c_char, c_int, c_long, c_ulong, c_void};

pub type BaseType = c_long;
pub type UBaseType = c_ulong;
pub type TickType = c_ulong;
pub type StackType = c_ulong;
/// A task handle (`TaskHandle_t`): the address of the task's control block.
pub type TaskHandle = *mut c_void;
/// A task's entry point. `C-unwind`: on the POSIX simulator a deleted task's
/// thread is cancelled, which unwinds through it.
pub type TaskFunction = unsafe extern "C-unwind" fn(*mut c_void);

/// `portMAX_DELAY`: wait without a timeout.
pub const MAX_DELAY: TickType = TickType::MAX;
/// `eDeleted` of `eTaskState`.
pub const E_DELETED: c_int = 4;
/// `eInvalid` of `eTaskState`.
pub const E_INVALID: c_int = 5;
/// `eIncrement` of `eNotifyAction`.
pub const E_INCREMENT: c_int = 2;
/// `taskSCHEDULER_NOT_STARTED` from `xTaskGetSchedulerState`.
pub const SCHEDULER_NOT_STARTED: BaseType = 1;

extern "C" {
    pub fn xTaskCreateStatic(
        code: TaskFunction,
        name: *const c_char,
        stack_depth: u32,
        parameters: *mut c_void,
        priority: UBaseType,
        stack: *mut StackType,
        tcb: *mut c_void,
    ) -> TaskHandle;
    pub fn vTaskDelete(task: TaskHandle);
    pub fn uxTaskGetStackHighWaterMark(task: TaskHandle) -> UBaseType;
    pub fn vTaskDelay(ticks: TickType);
    pub fn vTaskSuspend(task: TaskHandle);
    pub fn xTaskGetTickCount() -> TickType;
    pub fn xTaskGetCurrentTaskHandle() -> TaskHandle;
    pub fn xTaskGetSchedulerState() -> BaseType;
    pub fn eTaskGetState(task: TaskHandle) -> c_int;
    pub fn vTaskSuspendAll();
    pub fn xTaskResumeAll() -> BaseType;
    pub fn vTaskStartScheduler();
    pub fn vTaskEndScheduler();
    pub fn xTaskGenericNotify(
        task: TaskHandle,
        index: UBaseType,
        value: u32,
        action: c_int,
        previous: *mut u32,
    ) -> BaseType;
    pub fn ulTaskGenericNotifyTake(index: UBaseType, clear_on_exit: BaseType, ticks: TickType) -> u32;
    pub fn xTaskGenericNotifyStateClear(task: TaskHandle, index: UBaseType) -> BaseType;
    pub fn ulTaskGenericNotifyValueClear(task: TaskHandle, index: UBaseType, bits: u32) -> u32;
    pub fn pvTaskGetThreadLocalStoragePointer(task: TaskHandle, index: BaseType) -> *mut c_void;
    pub fn vTaskSetThreadLocalStoragePointer(task: TaskHandle, index: BaseType, value: *mut c_void);

    pub static icefloe_freertos_tick_rate_hz: u32;
    pub static icefloe_freertos_notify_index: u32;
    pub static icefloe_freertos_tls_index: u32;
    pub static icefloe_freertos_max_priorities: u32;
}

// ---- the crate's only unsafe code: safe wrappers over the calls above ----
//
// The rest of the crate is `deny(unsafe_code)` and goes through these. What
// makes each one sound is said at its `SAFETY` comment; the recurring
// argument is that every task handle the crate keeps addresses a control
// block in `'static` memory (tasks are created only from static
// `TaskMemory`, see `task::spawn`), so a handle stays a valid TCB even after
// its task was deleted.

#[allow(clippy::disallowed_types)] // SchedulerLocked's cells
use core::cell::UnsafeCell;
use core::ffi::CStr;

/// A task's control block that stays allocated for ever: the calling task,
/// or one created from static memory. Comparable, copyable, sendable (the
/// kernel accepts a handle from any task).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownTask(TaskHandle);

// SAFETY: a handle is an address the kernel accepts from any task.
unsafe impl Send for KnownTask {}
// SAFETY: as above.
unsafe impl Sync for KnownTask {}

impl KnownTask {
    /// The calling task; `None` before the scheduler starts.
    pub(crate) fn current() -> Option<Self> {
        // SAFETY: plain kernel call; NULL before the scheduler starts.
        let h = unsafe { xTaskGetCurrentTaskHandle() };
        (!h.is_null()).then_some(Self(h))
    }

    /// The raw handle.
    pub fn raw(self) -> TaskHandle {
        self.0
    }

    /// The handle as a number (for tables and liveness ids).
    pub(crate) fn addr(self) -> usize {
        self.0 as usize
    }

    /// `eTaskGetState` is `eDeleted` or `eInvalid`.
    pub(crate) fn is_deleted(self) -> bool {
        // SAFETY: a known task's TCB stays allocated (see above).
        let state = unsafe { eTaskGetState(self.0) };
        state == E_DELETED || state == E_INVALID
    }

    /// The task's thread-local slot `index` as a number.
    pub(crate) fn tls(self, index: BaseType) -> usize {
        // SAFETY: a valid TCB; the slot index is checked at build time.
        unsafe { pvTaskGetThreadLocalStoragePointer(self.0, index) as usize }
    }

    /// Sets the calling task's thread-local slot `index`.
    pub(crate) fn set_own_tls(index: BaseType, value: usize) {
        if let Some(me) = Self::current() {
            // SAFETY: the running task's own TCB; index checked at build time.
            unsafe { vTaskSetThreadLocalStoragePointer(me.0, index, value as *mut c_void) };
        }
    }

    /// Increments the task's notification `index` (non-blocking; allowed
    /// with the scheduler suspended). A stray notification of a deleted task's
    /// static TCB is harmless.
    pub(crate) fn notify(self, index: UBaseType) {
        // SAFETY: a valid TCB (see above); no previous-value pointer.
        unsafe { xTaskGenericNotify(self.0, index, 0, E_INCREMENT, core::ptr::null_mut()) };
    }

    /// Clears the task's notification `index` (state and value).
    pub(crate) fn clear_notification(self, index: UBaseType) {
        // SAFETY: a valid TCB.
        unsafe {
            xTaskGenericNotifyStateClear(self.0, index);
            ulTaskGenericNotifyValueClear(self.0, index, u32::MAX);
        }
    }

    /// The fewest stack words unused since the task started.
    pub(crate) fn stack_high_water_mark(self) -> usize {
        // SAFETY: a valid TCB.
        unsafe { uxTaskGetStackHighWaterMark(self.0) as usize }
    }

    /// Deletes the task.
    pub(crate) fn delete(self) {
        // SAFETY: a valid TCB in static memory (even an ended task's).
        unsafe { vTaskDelete(self.0) }
    }
}

/// Blocks the calling task on its notification `index` for at most `ticks`;
/// the value taken (0: timed out).
pub(crate) fn take_own_notification(index: UBaseType, ticks: TickType) -> u32 {
    // SAFETY: blocks the calling task on its own notification.
    unsafe { ulTaskGenericNotifyTake(index, 1, ticks) }
}

/// Blocks the calling task for `ticks` ticks.
pub(crate) fn delay(ticks: TickType) {
    // SAFETY: plain kernel call from a task.
    unsafe { vTaskDelay(ticks) }
}

/// The tick count (0 before the scheduler starts).
pub(crate) fn tick_count() -> TickType {
    // SAFETY: plain kernel call, valid before the scheduler starts.
    unsafe { xTaskGetTickCount() }
}

/// The shim's configuration constants.
pub(crate) fn notify_index() -> UBaseType {
    // SAFETY: a constant the shim defines.
    unsafe { icefloe_freertos_notify_index as UBaseType }
}

/// The thread-local slot icefloe keeps a task's generation in.
pub(crate) fn tls_index() -> BaseType {
    // SAFETY: a constant the shim defines.
    unsafe { icefloe_freertos_tls_index as BaseType }
}

/// `configTICK_RATE_HZ`.
pub(crate) fn tick_rate() -> u64 {
    // SAFETY: a constant the shim defines.
    u64::from(unsafe { icefloe_freertos_tick_rate_hz })
}

/// `configMAX_PRIORITIES`.
pub(crate) fn max_priorities() -> u32 {
    // SAFETY: a constant the shim defines.
    unsafe { icefloe_freertos_max_priorities }
}

/// Process-local state that only one task touches at a time: every access
/// runs with the scheduler suspended (or before it starts, when there is
/// one thread of control). Reentrant use panics instead of aliasing.
pub(crate) struct SchedulerLocked<T> {
    #[allow(clippy::disallowed_types)] // guarded by suspending the scheduler
    value: UnsafeCell<T>,
    #[allow(clippy::disallowed_types)]
    busy: UnsafeCell<bool>,
}

// SAFETY: see `with`: one task at a time, with the scheduler suspended.
unsafe impl<T: Send> Sync for SchedulerLocked<T> {}

impl<T> SchedulerLocked<T> {
    #[allow(clippy::disallowed_types)]
    pub(crate) const fn new(value: T) -> Self {
        Self { value: UnsafeCell::new(value), busy: UnsafeCell::new(false) }
    }

    /// Runs `f` with no other task running.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        // SAFETY: plain kernel call.
        let running = unsafe { xTaskGetSchedulerState() } != SCHEDULER_NOT_STARTED;
        if running {
            // SAFETY: suspending the scheduler from a task; resumed below.
            unsafe { vTaskSuspendAll() };
        }
        // SAFETY: no other task runs (scheduler suspended, or not started
        // and this is the only thread of control), so these cells are ours;
        // `busy` catches a reentrant call from `f`.
        let busy = unsafe { &mut *self.busy.get() };
        assert!(!*busy, "SchedulerLocked::with is not reentrant");
        *busy = true;
        // SAFETY: as above, and not reentered (checked): the one reference.
        let r = f(unsafe { &mut *self.value.get() });
        *busy = false;
        if running {
            // SAFETY: matches the suspension above.
            unsafe { xTaskResumeAll() };
        }
        r
    }
}

/// Gives back to `arena` the mapping of segment `segment` held by a task
/// that is gone (so its handle to the mapping is never used or dropped).
pub(crate) fn unmap_abandoned<const SIZE: usize, const SEGMENTS: usize>(
    arena: &'static icefloe_core::arena::Arena<SIZE, SEGMENTS>,
    segment: usize,
) {
    // SAFETY: the caller found the owning task deleted (or replaced by a
    // new task in its memory): its `FreeRtosShm` is never used or dropped
    // again, and the mapping table entry (freed by the caller) is freed once.
    unsafe { arena.unmap_abandoned(segment) };
}

unsafe extern "C-unwind" fn trampoline(entry: *mut c_void) {
    // SAFETY: `create_static` passed a `fn()` cast to a data pointer (same
    // size on every target FreeRTOS runs on).
    let entry: fn() = unsafe { core::mem::transmute::<*mut c_void, fn()>(entry) };
    entry();
    // A FreeRTOS task must not return: it deletes itself.
    // SAFETY: deleting the calling task (NULL) is always allowed.
    unsafe { vTaskDelete(core::ptr::null_mut()) }
}

/// Creates a task running `entry` in static memory: `stack` and `tcb` are
/// handed to the kernel for ever. `None` if the kernel refused.
pub(crate) fn create_static(
    entry: fn(),
    name: &CStr,
    priority: u32,
    stack: &'static mut [StackType],
    tcb: &'static mut [u8],
) -> Option<KnownTask> {
    // SAFETY: the memory is exclusively ours for ever ('static, &mut) and
    // passes to the kernel, which owns it from now on; the TCB area is large
    // and aligned enough (checked at build time against
    // sizeof(StaticTask_t)); the kernel copies the name.
    let handle = unsafe {
        xTaskCreateStatic(
            trampoline,
            name.as_ptr(),
            stack.len() as u32,
            entry as *mut c_void,
            priority as UBaseType,
            stack.as_mut_ptr(),
            tcb.as_mut_ptr().cast(),
        )
    };
    (!handle.is_null()).then_some(KnownTask(handle))
}

/// Runs the scheduler.
pub(crate) fn start_scheduler() {
    // SAFETY: plain kernel call; the idle task's memory is provided by the
    // kernel (configKERNEL_PROVIDED_STATIC_MEMORY).
    unsafe { vTaskStartScheduler() }
}

/// Ends the scheduler (from a task).
pub(crate) fn end_scheduler() {
    // SAFETY: plain kernel call.
    unsafe { vTaskEndScheduler() };
}

/// Blocks the calling thread until a signal (the POSIX simulator).
#[cfg(icefloe_freertos_posix)]
pub(crate) fn pause_thread() {
    extern "C" {
        fn pause() -> core::ffi::c_int;
    }
    // SAFETY: `pause` only blocks the calling thread until a signal.
    unsafe { pause() };
}

/// Called by the kernel's `configASSERT` (see `config/FreeRTOSConfig.h`).
///
/// # Safety
/// `file` is a NUL-terminated string (the kernel passes `__FILE__`).
#[no_mangle]
pub unsafe extern "C" fn icefloe_freertos_assert_failed(file: *const c_char, line: c_int) {
    // SAFETY: the kernel passes `__FILE__`, a NUL-terminated literal.
    let file = unsafe { CStr::from_ptr(file) }.to_str().unwrap_or("?");
    panic!("FreeRTOS assertion failed at {file}:{line}");
}

// SAFETY: the pointer is the arena segment's, fixed for the mapping's life
// and valid for its length until it is dropped.
unsafe impl icefloe_core::platform::SharedMemory for crate::FreeRtosShm {
    fn as_ptr(&self) -> *mut u8 {
        self.inner.as_ref().map_or(core::ptr::null_mut(), |s| s.as_ptr())
    }
    fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |s| s.len())
    }
}
