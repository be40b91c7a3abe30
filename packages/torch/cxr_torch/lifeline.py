"""Child processes of the TypeScript side die with it: stdin EOF covers a clean exit, and on Linux
PR_SET_PDEATHSIG makes the kernel SIGKILL us when the parent dies, even by SIGKILL, and even while
we are blocked in a collective (DDP) or a CUDA call where no EOF would be read."""
import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent():
    if not sys.platform.startswith('linux'):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl: nobody will signal us
        os._exit(1)
