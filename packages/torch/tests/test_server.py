import json
import os
import signal
import sys
import tempfile
import unittest

import torch

sys.path.insert(0, os.path.dirname(__file__))
from client import batch_payload, frame, init_request, initial_weights, start  # noqa: E402
from fixture import TINY, rotation_batch  # noqa: E402

from cxr_ssl.safetensors_io import read_safetensors  # noqa: E402

HEAD = {'kind': 'classifier', 'views': 1, 'hidden': 16, 'classes': 4}


def answers(proc, stdin_bytes, timeout=120):
    out, err = proc.communicate(stdin_bytes, timeout=timeout)
    return [json.loads(line) for line in out.decode().splitlines()], err.decode(), proc.returncode


class ServerRoundTrip(unittest.TestCase):
    def test_pipelined_train_eval_forward_save_close(self):
        folder = tempfile.mkdtemp()
        net, path = initial_weights(folder, TINY, HEAD)
        x, y = rotation_batch(8, 32)
        shape = list(x.shape)
        payload = batch_payload(x, y)
        feats = os.path.join(folder, 'features.safetensors')
        w, o = os.path.join(folder, 'w.safetensors'), os.path.join(folder, 'o.safetensors')
        # everything is written before any answer is read: the server must keep the order, also
        # when it holds back up to `lag` answers to keep the device queue full
        stream = frame(init_request(TINY, HEAD, path, lag=2))
        stream += b''.join(frame({'type': 'train', 'shape': shape, 'scalars': {'lr': 0.05}}, payload) for _ in range(3))
        stream += frame({'type': 'eval', 'shape': shape}, payload)
        stream += frame({'type': 'forward', 'shape': shape, 'outPath': feats}, batch_payload(x))
        stream += frame({'type': 'save', 'weightsPath': w, 'optimizerPath': o})
        stream += frame({'type': 'close'})
        lines, err, code = answers(start(), stream)
        self.assertEqual(code, 0, err)
        self.assertEqual(len(lines), 8, lines)
        self.assertTrue(lines[0]['ok'])
        self.assertEqual(lines[0]['dtype'], 'fp32')
        self.assertEqual(lines[0]['names'][:2], ['features.0.weight', 'features.0.bias'])
        self.assertEqual([a['step'] for a in lines[1:4]], [1, 2, 3])
        for a in lines[1:5]:
            self.assertGreater(a['loss'], 0)
            self.assertTrue(0 <= a['accuracy'] <= 1)
        self.assertNotIn('step', lines[4])
        self.assertEqual(lines[5]['shape'], [8, 1, 16])
        self.assertEqual(lines[6:], [{'ok': True, 'step': 3}, {'ok': True}])
        saved, momentum = read_safetensors(w), read_safetensors(o)
        self.assertEqual(list(saved.keys()), [n for n, _ in net.named_parameters()])
        self.assertEqual(list(momentum.keys()), list(saved.keys()))
        self.assertGreater(float((saved['head.fc2.weight'] - net.head.fc2.weight).abs().max()), 1e-5)
        # features written by `forward` are the trained model's, in float32
        net.load_state_dict(saved)
        got = read_safetensors(feats)
        with torch.no_grad():
            self.assertLess(float((got['features'] - net.encode(x)).abs().max()), 1e-5)
            self.assertLess(float((got['logits'] - net(x)).abs().max()), 1e-5)

    def test_exits_quietly_when_stdin_closes(self):
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, HEAD)
        lines, err, code = answers(start(), frame(init_request(TINY, HEAD, path)))
        self.assertEqual(code, 0, err)
        self.assertEqual(len(lines), 1)
        self.assertIn('stdin closed', err)


class ServerErrors(unittest.TestCase):
    def test_request_before_init_gives_one_error_line_and_nonzero_exit(self):
        x, y = rotation_batch(2, 32)
        lines, _, code = answers(start(), frame({'type': 'train', 'shape': list(x.shape), 'scalars': {'lr': 0.1}}, batch_payload(x, y)))
        self.assertNotEqual(code, 0)
        self.assertEqual(len(lines), 1)
        self.assertIn('before "init"', lines[0]['error'])
        self.assertIn('Traceback', lines[0]['traceback'])

    def test_payload_size_mismatch_names_the_shape_after_earlier_answers(self):
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, HEAD)
        x, y = rotation_batch(4, 32)
        good = frame({'type': 'train', 'shape': list(x.shape), 'scalars': {'lr': 0.1}}, batch_payload(x, y))
        bad = frame({'type': 'train', 'shape': [4, 1, 32, 31], 'scalars': {'lr': 0.1}}, batch_payload(x, y))
        lines, _, code = answers(start(), frame(init_request(TINY, HEAD, path)) + good + bad)
        self.assertNotEqual(code, 0)
        self.assertEqual(len(lines), 3, lines)
        self.assertEqual(lines[1]['step'], 1)
        self.assertIn('[4, 1, 32, 31]', lines[2]['error'])

    def test_weights_that_do_not_match_the_spec_are_named(self):
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, {'kind': 'classifier', 'views': 1, 'hidden': 16, 'classes': 5})
        lines, _, code = answers(start(), frame(init_request(TINY, HEAD, path)))
        self.assertNotEqual(code, 0)
        self.assertIn('head.fc2.weight has shape [5, 16]', lines[0]['error'])


def strict_lines(out):
    """Answer lines parsed as JSON proper: Python's json would accept a bare NaN, JSON.parse does not."""
    def refuse(name):
        raise ValueError('not JSON: %s' % name)
    return [json.loads(line, parse_constant=refuse) for line in out.decode().splitlines()]


class ServerFailurePaths(unittest.TestCase):
    def test_a_diverged_loss_travels_as_valid_json(self):
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, HEAD)
        x, y = rotation_batch(8, 32)
        step = frame({'type': 'train', 'shape': list(x.shape), 'scalars': {'lr': 1e30}}, batch_payload(x, y))
        proc = start()
        out, err = proc.communicate(frame(init_request(TINY, HEAD, path)) + step * 3 + frame({'type': 'close'}), timeout=120)
        self.assertEqual(proc.returncode, 0, err.decode())
        lines = strict_lines(out)
        losses = [a['loss'] for a in lines[1:4]]
        self.assertIsInstance(losses[0], float)  # the first step's loss is computed before any update
        self.assertIn(losses[-1], ('NaN', 'Infinity', '-Infinity'), losses)

    def test_sigterm_and_sigusr1_are_left_to_the_parent(self):
        # a cluster signals the whole process group: the parent checkpoints, so the engine must live on
        folder = tempfile.mkdtemp()
        _, path = initial_weights(folder, TINY, HEAD)
        x, y = rotation_batch(4, 32)
        proc = start()
        proc.stdin.write(frame(init_request(TINY, HEAD, path)))
        proc.stdin.flush()
        self.assertTrue(json.loads(proc.stdout.readline())['ok'])
        for sig in (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT):
            proc.send_signal(sig)
        w, o = os.path.join(folder, 'w.safetensors'), os.path.join(folder, 'o.safetensors')
        rest = frame({'type': 'train', 'shape': list(x.shape), 'scalars': {'lr': 0.1}}, batch_payload(x, y))
        rest += frame({'type': 'save', 'weightsPath': w, 'optimizerPath': o}) + frame({'type': 'close'})
        out, err = proc.communicate(rest, timeout=120)
        self.assertEqual(proc.returncode, 0, err.decode())
        lines = strict_lines(out)
        self.assertEqual(lines[0]['step'], 1)
        self.assertEqual(lines[1:], [{'ok': True, 'step': 1}, {'ok': True}])


if __name__ == '__main__':
    unittest.main()
