import json
import os
import struct
import sys
import tempfile
import unittest
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(__file__))
from fixture import xrays  # noqa: E402

from cxr_ssl.safetensors_io import read_safetensors, write_safetensors  # noqa: E402


class Safetensors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()

    def test_round_trip_keeps_order_shapes_and_bits(self):
        img = xrays(1, 32)[0].float() / 255
        tensors = OrderedDict([('z.last', img), ('a.first', torch.tensor([1.5, -2.25, 3e-8])), ('empty', torch.zeros(0, 3))])
        path = os.path.join(self.dir, 'w.safetensors')
        write_safetensors(path, tensors, {'format': 'pt'})
        back = read_safetensors(path)
        self.assertEqual(list(back.keys()), ['z.last', 'a.first', 'empty'])
        self.assertTrue(torch.equal(back['z.last'], img))
        self.assertEqual(back['a.first'].tolist(), [1.5, -2.25, torch.tensor(3e-8).item()])
        self.assertEqual(tuple(back['empty'].shape), (0, 3))
        self.assertEqual([f for f in os.listdir(self.dir) if f.endswith('.tmp')], [])

    def test_header_is_standard_safetensors(self):
        path = os.path.join(self.dir, 'w.safetensors')
        write_safetensors(path, OrderedDict([('w', torch.tensor([[1.0, 2.0]]))]))
        with open(path, 'rb') as fh:
            raw = fh.read()
        (n,) = struct.unpack('<Q', raw[:8])
        self.assertEqual(n % 8, 0)
        header = json.loads(raw[8:8 + n])
        self.assertEqual(header['w'], {'dtype': 'F32', 'shape': [1, 2], 'data_offsets': [0, 8]})
        self.assertEqual(struct.unpack('<2f', raw[8 + n:]), (1.0, 2.0))

    def _write_raw(self, dtype, shape, payload):
        head = json.dumps({'t': {'dtype': dtype, 'shape': shape, 'data_offsets': [0, len(payload)]}}).encode()
        path = os.path.join(self.dir, dtype + '.safetensors')
        with open(path, 'wb') as f:
            f.write(struct.pack('<Q', len(head)) + head + payload)
        return path

    def test_reads_f16_and_bf16_as_float32(self):
        f16 = struct.pack('<3e', 1.0, -0.5, 65504.0)
        self.assertEqual(read_safetensors(self._write_raw('F16', [3], f16))['t'].tolist(), [1.0, -0.5, 65504.0])
        # bf16 is the top half of a float32
        bf16 = b''.join(struct.pack('<f', v)[2:] for v in (1.0, -3.0, 0.15625))
        got = read_safetensors(self._write_raw('BF16', [3], bf16))['t']
        self.assertEqual(got.dtype, torch.float32)
        self.assertEqual(got.tolist(), [1.0, -3.0, 0.15625])

    def test_truncated_file_names_the_file(self):
        path = self._write_raw('F32', [4], b'\0' * 8)
        with self.assertRaisesRegex(ValueError, 'F32.safetensors'):
            read_safetensors(path)


if __name__ == '__main__':
    unittest.main()
