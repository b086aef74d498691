"""SIGINT and SIGTERM for nodes that handle termination requests."""

import signal
import threading

_taken = False


def take_over() -> None:
    """Leaves SIGINT and SIGTERM to icefloe's handler, which records them so
    that blocking calls end with their error (``NodeWaitFailure``, …).

    Python's own default handlers are set aside first, so one Ctrl-C does
    not also raise a ``KeyboardInterrupt`` after the wait ended; a handler
    the application installed stays and runs after icefloe's. Only the main
    thread may change handlers; elsewhere nothing changes here."""
    global _taken
    # icefloe installs its handler once per process: setting Python's aside
    # again would remove icefloe's.
    if _taken or threading.current_thread() is not threading.main_thread():
        return
    _taken = True
    for sig, default in ((signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)):
        current = signal.getsignal(sig)
        if current is default or current in (signal.SIG_DFL, signal.SIG_IGN, None):
            signal.signal(sig, signal.SIG_DFL)
