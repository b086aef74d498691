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
