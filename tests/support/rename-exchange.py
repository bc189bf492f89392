"""Swaps two paths atomically with renameat2(RENAME_EXCHANGE) in a tight loop.

Usage: python3 rename-exchange.py PATH_A PATH_B
Prints "ready" once the first swap succeeded, then swaps until SIGTERM, prints "swaps N" and
exits 0. Exits 2 with a message when the kernel or file system refuses the exchange.
Used by tests/unit/security/listing-race.test.ts to race list-files and read-file.
"""
import ctypes
import os
import platform
import signal
import sys

AT_FDCWD = -100
RENAME_EXCHANGE = 2
# renameat2 syscall numbers, for a libc without the wrapper.
SYSCALLS = {"x86_64": 316, "aarch64": 276}

libc = ctypes.CDLL(None, use_errno=True)


def exchange_fn():
    if hasattr(libc, "renameat2"):
        fn = libc.renameat2
        return lambda a, b: fn(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
    number = SYSCALLS.get(platform.machine())
    if number is None:
        sys.stderr.write("renameat2 unavailable on %s\n" % platform.machine())
        sys.exit(2)
    return lambda a, b: libc.syscall(number, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)


def main():
    a, b = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
    exchange = exchange_fn()
    count = 0
    stop = False

    def on_term(_sig, _frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    while not stop:
        if exchange(a, b) != 0:
            err = ctypes.get_errno()
            sys.stderr.write("renameat2 failed: %s\n" % os.strerror(err))
            sys.exit(2)
        count += 1
        if count == 1:
            print("ready", flush=True)
    print("swaps %d" % count, flush=True)


main()
