/*
 * icefloe-freertos: the build-time checks that the kernel configuration is
 * one the Rust side can rely on, and the few configuration values the Rust
 * side reads. No kernel function is wrapped: Rust calls the real ones.
 */
#include "FreeRTOS.h"
#include "task.h"

#ifndef ICEFLOE_NOTIFY_INDEX
    #error "FreeRTOSConfig.h must define ICEFLOE_NOTIFY_INDEX (the task-notification index icefloe waits on)"
#endif
#ifndef ICEFLOE_TLS_INDEX
    #error "FreeRTOSConfig.h must define ICEFLOE_TLS_INDEX (the thread-local storage slot icefloe uses)"
#endif

_Static_assert( configSUPPORT_STATIC_ALLOCATION == 1, "icefloe-freertos needs configSUPPORT_STATIC_ALLOCATION 1" );
_Static_assert( configUSE_TASK_NOTIFICATIONS == 1, "icefloe-freertos needs configUSE_TASK_NOTIFICATIONS 1" );
_Static_assert( ICEFLOE_NOTIFY_INDEX < configTASK_NOTIFICATION_ARRAY_ENTRIES,
                "ICEFLOE_NOTIFY_INDEX must be below configTASK_NOTIFICATION_ARRAY_ENTRIES" );
_Static_assert( ICEFLOE_TLS_INDEX < configNUM_THREAD_LOCAL_STORAGE_POINTERS,
                "ICEFLOE_TLS_INDEX must be below configNUM_THREAD_LOCAL_STORAGE_POINTERS" );
_Static_assert( INCLUDE_eTaskGetState == 1, "icefloe-freertos needs INCLUDE_eTaskGetState 1" );
_Static_assert( INCLUDE_vTaskDelete == 1, "icefloe-freertos needs INCLUDE_vTaskDelete 1" );
_Static_assert( INCLUDE_vTaskDelay == 1, "icefloe-freertos needs INCLUDE_vTaskDelay 1" );
_Static_assert( INCLUDE_vTaskSuspend == 1, "icefloe-freertos needs INCLUDE_vTaskSuspend 1 (waits without timeout)" );
_Static_assert( INCLUDE_xTaskGetSchedulerState == 1, "icefloe-freertos needs INCLUDE_xTaskGetSchedulerState 1" );

/* The Rust declarations use C's long types for these. */
_Static_assert( sizeof( BaseType_t ) == sizeof( long ), "BaseType_t must be long" );
_Static_assert( sizeof( UBaseType_t ) == sizeof( unsigned long ), "UBaseType_t must be unsigned long" );
_Static_assert( sizeof( TickType_t ) == sizeof( unsigned long ), "TickType_t must be as wide as unsigned long" );
_Static_assert( sizeof( StackType_t ) == sizeof( unsigned long ), "StackType_t must be as wide as unsigned long" );
_Static_assert( sizeof( configSTACK_DEPTH_TYPE ) == 4, "configSTACK_DEPTH_TYPE must be 32 bits" );
/* Enums may be shorter than int (arm-none-eabi-gcc uses -fshort-enums);
 * the procedure call standards extend such arguments and results to a full
 * register, so Rust passes and reads them as int. */
_Static_assert( sizeof( eTaskState ) <= sizeof( int ), "eTaskState wider than int" );
_Static_assert( sizeof( eNotifyAction ) <= sizeof( int ), "eNotifyAction wider than int" );

/* icefloe_freertos::task::TaskMemory reserves ICEFLOE_TCB_BYTES, 8-aligned. */
_Static_assert( sizeof( StaticTask_t ) <= ICEFLOE_TCB_BYTES, "StaticTask_t larger than the Rust TaskMemory reserves" );
_Static_assert( _Alignof( StaticTask_t ) <= 8, "StaticTask_t needs more than 8-byte alignment" );

const uint32_t icefloe_freertos_tick_rate_hz = configTICK_RATE_HZ;
const uint32_t icefloe_freertos_notify_index = ICEFLOE_NOTIFY_INDEX;
const uint32_t icefloe_freertos_tls_index = ICEFLOE_TLS_INDEX;
const uint32_t icefloe_freertos_max_priorities = configMAX_PRIORITIES;
