"""`python -m cxr_torch.server`: the torch engine's child process. Protocol: see protocol.py.

Requests: init, train, eval, forward, save, close. Train/eval answers are resolved lazily (see
trainer.py) but always sent in request order, one line per request.
"""
import collections
import signal
import sys
import traceback

from .protocol import FrameReader, LineWriter, ProtocolError
from .spec_check import check_init


def log(msg):
    sys.stderr.write('[cxr_torch] %s\n' % msg)
    sys.stderr.flush()


class Server:
    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.trainer = None
        self.pending = collections.deque()  # launched train/eval steps, not answered yet (oldest first)
        self.lag = 1

    def flush(self, keep=0):
        """Answers the oldest pending steps until `keep` remain (each answer waits for its step only)."""
        while len(self.pending) > keep:
            self.writer.send(self.trainer.resolve(self.pending.popleft()))

    def serve(self):
        try:
            return self._loop()
        except BaseException:
            try:
                self.flush()  # answers owed for earlier, successful steps go out before the error line
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise

    def _loop(self):
        reader = self.reader
        while True:
            if self.pending and not reader.has_input():
                # The parent may be waiting for an answer before it sends more: answer the oldest
                # step only (the later ones keep the device busy), then look for input again.
                # Flushing everything here drained the GPU queue whenever the parent was a moment
                # late, a bubble per step (measured on an H100: ours/raw 0.87 -> see closing note).
                self.flush(keep=len(self.pending) - 1)
                continue
            header = reader.read_header()
            if header is None:
                log('stdin closed: exiting')
                return 0
            kind = header['type']
            if kind not in ('init', 'close', 'fail') and self.trainer is None:
                raise ProtocolError('"%s" before "init": send init first' % kind)
            if kind in ('train', 'eval'):
                self.step(kind, header)
                continue
            self.flush()
            if kind == 'close':
                self.writer.send({'ok': True})
                return 0
            self.writer.send(self.handle(kind, header))

    def step(self, kind, header):
        x, y = self.trainer.read_batch(self.reader, header)
        scalars = None
        if kind == 'train':
            scalars = header.get('scalars')
            lr = scalars.get('lr') if isinstance(scalars, dict) else None
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr < 0:
                raise ProtocolError('train: "scalars" must hold a non-negative "lr" (and the method\'s own scalars), got %r' % (scalars,))
        self.pending.append(self.trainer.launch(x, y, scalars))
        self.flush(keep=self.lag)  # the steps still queued keep the device busy while we wait on older ones

    def handle(self, kind, header):
        if kind == 'init':
            import torch

            from .trainer import Trainer

            if header.get('bytes'):
                self.reader.read_payload(header['bytes'])
            check_init(header)
            self.trainer = Trainer(header)
            # on CUDA keep 4 steps queued behind the one being answered (queued steps cost no memory: their
            # activations are freed when their backward is queued), so a late batch from the parent does
            # not idle the GPU; on CPU steps are synchronous anyway
            self.lag = int(header.get('lag', 4 if self.trainer.cuda else 1))
            return {'ok': True, 'device': self.trainer.describe(), 'dtype': self.trainer.dtype,
                    'torch': torch.__version__, 'names': self.trainer.names()}
        if kind == 'forward':
            x, _ = self.trainer.read_batch(self.reader, dict(header, labels=False))
            shape = self.trainer.features(x, header['outPath'])
            return {'ok': True, 'path': header['outPath'], 'shape': shape}
        if kind == 'save':
            self.trainer.save(header['weightsPath'], header['optimizerPath'])
            return {'ok': True, 'step': self.trainer.steps}
        if kind == 'fail':  # test hook: proves that errors travel back as they should
            raise RuntimeError(header.get('message', 'failure requested by the test hook'))
        raise ProtocolError('unknown request type "%s": expected init, train, eval, forward, save or close' % kind)


def widen_stdin_pipe(size=1 << 20):
    """Bigger pipe buffer (Linux F_SETPIPE_SZ): fewer wake-ups per multi-MB batch. Best effort."""
    try:
        import fcntl

        fcntl.fcntl(0, getattr(fcntl, 'F_SETPIPE_SZ', 1031), size)
    except (ImportError, OSError):
        pass


def main():
    # Ctrl-C and what clusters send before a kill (SIGTERM; SLURM's --signal USR1) reach the whole
    # process group: they are the parent's to handle (it finishes the step, asks us for a checkpoint,
    # then closes our stdin). EOF ends us; a parent killed outright leaves us an EOF as well.
    for sig in ('SIGINT', 'SIGTERM', 'SIGUSR1'):
        if hasattr(signal, sig):
            signal.signal(getattr(signal, sig), signal.SIG_IGN)
    widen_stdin_pipe()
    writer = LineWriter()
    try:
        return Server(FrameReader(0), writer).serve()
    except BrokenPipeError:
        return 1  # parent gone
    except BaseException as e:  # noqa: BLE001 - every failure must reach TypeScript as one line
        tb = traceback.format_exc()
        log(tb)
        try:
            writer.send({'error': '%s: %s' % (type(e).__name__, e), 'traceback': tb})
        except BrokenPipeError:
            pass
        return 1


if __name__ == '__main__':
    sys.exit(main())
