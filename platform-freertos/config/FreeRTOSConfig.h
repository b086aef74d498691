/*
 * icefloe-freertos: the kernel configuration the crate builds FreeRTOS with
 * unless ICEFLOE_FREERTOS_CONFIG_DIR names a folder holding the user's own.
 * A user configuration must keep what the platform relies on (checked at
 * build time by c/icefloe_shim.c): static allocation, task notifications
 * with ICEFLOE_NOTIFY_INDEX below configTASK_NOTIFICATION_ARRAY_ENTRIES,
 * thread-local storage pointers, eTaskGetState, vTaskDelete, vTaskDelay.
 *
 * One file serves the POSIX simulator (host tests) and the Cortex-M3/M4F
 * ports; ICEFLOE_FREERTOS_POSIX is defined by the build for the simulator.
 */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#include <stdint.h>

#define configUSE_PREEMPTION                    1
#define configUSE_PORT_OPTIMISED_TASK_SELECTION 0
#define configUSE_TICKLESS_IDLE                 0
#define configTICK_RATE_HZ                      1000
#define configMAX_PRIORITIES                    5
#define configMAX_TASK_NAME_LEN                 12
#define configTICK_TYPE_WIDTH_IN_BITS           TICK_TYPE_WIDTH_32_BITS
#define configSTACK_DEPTH_TYPE                  uint32_t
#define configIDLE_SHOULD_YIELD                 1
#define configUSE_TASK_NOTIFICATIONS            1
#define configTASK_NOTIFICATION_ARRAY_ENTRIES   2
#define configNUM_THREAD_LOCAL_STORAGE_POINTERS 1
#define configUSE_MUTEXES                       1
#define configUSE_RECURSIVE_MUTEXES             0
#define configUSE_COUNTING_SEMAPHORES           1
#define configQUEUE_REGISTRY_SIZE               0
#define configUSE_QUEUE_SETS                    0
#define configUSE_TIME_SLICING                  1
#define configUSE_NEWLIB_REENTRANT              0
#define configENABLE_BACKWARD_COMPATIBILITY     0

/* No heap anywhere: every kernel object is created statically. */
#define configSUPPORT_STATIC_ALLOCATION         1
#define configSUPPORT_DYNAMIC_ALLOCATION        0
#define configKERNEL_PROVIDED_STATIC_MEMORY     1

#define configUSE_IDLE_HOOK                     0
#define configUSE_TICK_HOOK                     0
#define configCHECK_FOR_STACK_OVERFLOW          0
#define configUSE_MALLOC_FAILED_HOOK            0
#define configUSE_DAEMON_TASK_STARTUP_HOOK      0
#define configGENERATE_RUN_TIME_STATS           0
#define configUSE_TRACE_FACILITY                0
#define configUSE_STATS_FORMATTING_FUNCTIONS    0
#define configUSE_CO_ROUTINES                   0
#define configUSE_TIMERS                        0

#define INCLUDE_vTaskPrioritySet                0
#define INCLUDE_uxTaskPriorityGet               0
#define INCLUDE_vTaskDelete                     1
#define INCLUDE_vTaskSuspend                    1
#define INCLUDE_xTaskDelayUntil                 0
#define INCLUDE_vTaskDelay                      1
#define INCLUDE_xTaskGetSchedulerState          1
#define INCLUDE_xTaskGetCurrentTaskHandle       1
#define INCLUDE_uxTaskGetStackHighWaterMark     1
#define INCLUDE_eTaskGetState                   1
#define INCLUDE_xTaskAbortDelay                 0
#define INCLUDE_xTaskGetHandle                  0

/* The notification index icefloe's signal waits use (0 stays the user's). */
#define ICEFLOE_NOTIFY_INDEX                    1
/* The thread-local storage slot holding a task's icefloe generation. */
#define ICEFLOE_TLS_INDEX                       0

/* A failed kernel assertion panics in Rust with the file and line. */
void icefloe_freertos_assert_failed( const char * file, int line );
#define configASSERT( x )    if( ( x ) == 0 ) { icefloe_freertos_assert_failed( __FILE__, __LINE__ ); }

#ifdef ICEFLOE_FREERTOS_POSIX
    #define configMINIMAL_STACK_SIZE            ( ( configSTACK_DEPTH_TYPE ) 256 )
    #define configUSE_POSIX_ERRNO               0
#else
    #ifndef configCPU_CLOCK_HZ
        #define configCPU_CLOCK_HZ              ( ( unsigned long ) 25000000 )
    #endif
    #define configMINIMAL_STACK_SIZE            ( ( configSTACK_DEPTH_TYPE ) 128 )
    /* Cortex-M: the kernel at the lowest priority; interrupts at 5 (of 8, in
     * the top three bits) or numerically higher may call FromISR functions. */
    #define configKERNEL_INTERRUPT_PRIORITY     0xFF
    #define configMAX_SYSCALL_INTERRUPT_PRIORITY 0xA0
    /* The port's handlers under cortex-m-rt's vector names. */
    #define vPortSVCHandler                     SVCall
    #define xPortPendSVHandler                  PendSV
    #define xPortSysTickHandler                 SysTick
#endif

#endif /* FREERTOS_CONFIG_H */
