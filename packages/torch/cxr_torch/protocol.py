"""The engine pipe protocol (see packages/train/src/engines/protocol.ts, its other half).

Request frame on stdin: u32 LE header length, UTF-8 JSON header, then `header.bytes` raw payload
bytes. Answer: one JSON line per request on stdout, in request order. An error is one JSON line
{"error", "traceback"} followed by a non-zero exit. EOF on stdin means the parent is gone: exit.
A non-finite float (a diverged loss) travels as the string "NaN", "Infinity" or "-Infinity":
Python's bare NaN is not JSON.
"""
import ctypes
import io
import json
import math
import os
import select
import struct


class ProtocolError(Exception):
    pass


def buffer_of(tensor):
    """A writable memoryview over a contiguous CPU tensor's bytes (pinned ones too): read straight into it."""
    n = tensor.numel() * tensor.element_size()
    return memoryview((ctypes.c_ubyte * n).from_address(tensor.data_ptr())).cast('B')


class FrameReader:
    """Unbuffered reads on the fd, so that `has_input()` (select) tells the truth."""

    def __init__(self, fd):
        self.fd = fd
        self.raw = io.FileIO(fd, 'rb', closefd=False)

    def has_input(self):
        ready, _, _ = select.select([self.fd], [], [], 0)
        return bool(ready)

    def read_into(self, mv):
        """Fills `mv` completely; returns False on EOF before the first byte, raises on EOF mid-way."""
        got = 0
        total = len(mv)
        while got < total:
            n = self.raw.readinto(mv[got:])
            if not n:
                if got == 0:
                    return False
                raise ProtocolError('stdin closed in the middle of a frame (%d of %d bytes)' % (got, total))
            got += n
        return True

    def read_header(self):
        """-> header dict, or None on a clean EOF (parent closed the pipe or died)."""
        size = bytearray(4)
        if not self.read_into(memoryview(size)):
            return None
        (n,) = struct.unpack('<I', size)
        if n == 0 or n > 1 << 26:
            raise ProtocolError('frame header length %d is not plausible: the stream is out of sync' % n)
        raw = bytearray(n)
        if not self.read_into(memoryview(raw)):
            raise ProtocolError('stdin closed after a frame length')
        header = json.loads(raw.decode('utf-8'))
        if not isinstance(header, dict) or not isinstance(header.get('type'), str):
            raise ProtocolError('frame header must be a JSON object with a string "type"')
        return header

    def read_payload(self, n):
        buf = bytearray(n)
        if n and not self.read_into(memoryview(buf)):
            raise ProtocolError('stdin closed before a %d-byte payload' % n)
        return buf


class LineWriter:
    """JSON lines on a private duplicate of stdout; fd 1 itself is pointed at stderr so that stray
    prints (ours or a library's) can never corrupt the answer stream."""

    def __init__(self):
        self.out = os.fdopen(os.dup(1), 'wb', buffering=0)
        os.dup2(2, 1)

    def send(self, obj):
        self.out.write((json.dumps(strict_json(obj), separators=(',', ':'), allow_nan=False) + '\n').encode('utf-8'))


def strict_json(v):
    """`v` with every non-finite float replaced by its name, so that the line is valid JSON."""
    if isinstance(v, float) and not math.isfinite(v):
        return 'NaN' if v != v else ('Infinity' if v > 0 else '-Infinity')
    if isinstance(v, dict):
        return {k: strict_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [strict_json(x) for x in v]
    return v
