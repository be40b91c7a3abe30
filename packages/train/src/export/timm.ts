import { openCache, openSource } from '@cxr-ssl/data';
import type { InputNormalisation } from '@cxr-ssl/models';
import type { PretextConfig } from '../config.ts';
import { openRunData } from '../run-data.ts';

/**
 * What `timm.create_model('local-dir:<export>', pretrained=True)` and timm's hub loader read from
 * config.json (timm/models/_hub.py `_parse_model_cfg`, _builder.py): `architecture` (a timm model name),
 * `num_classes`, `num_features`, and `pretrained_cfg`, whose fields become a `PretrainedCfg`: its
 * `input_size[0]` sets `in_chans`, `num_classes` 0 leaves the classifier off, `mean` / `std` (on 0..1) are
 * what timm's transforms normalise with. timm then loads model.safetensors from the folder strictly.
 * Only architectures whose timm state dict and forward are ours exactly (checked with timm 1.0.29):
 * timm's vgg16 keeps a `pre_logits` ConvMlp even with num_classes=0, so VGG exports are torchvision-only.
 */
export const TIMM_ARCHITECTURES: Record<string, { first_conv: string; classifier: string }> = {
  resnet18: { first_conv: 'conv1', classifier: 'fc' },
  resnet50: { first_conv: 'conv1', classifier: 'fc' },
  densenet121: { first_conv: 'features.conv0', classifier: 'classifier' },
};

/** Pixel mean and std (on 0..1) of up to `limit` train images of the run's prepared set (a pool's sets), when it is still there. */
export function trainPixelStats(run: PretextConfig, limit = 256): { mean: number; std: number } | undefined {
  try {
    const data = openRunData(run.cache);
    const cache = openSource(data.source, (c) => openCache(c.dir, c.name, c.size, { wholeReadLimit: 0 })); // read image by image
    try {
      const train = data.sets.flatMap((s) => s.train);
      let n = 0;
      let sum = 0;
      let sq = 0;
      for (let k = 0; k < Math.min(limit, train.length); k++) {
        const i = train[Math.floor((k * train.length) / Math.min(limit, train.length))];
        for (const v of cache.get(i).pixels) {
          sum += v;
          sq += v * v;
        }
        n += run.cache.size * run.cache.size;
      }
      if (n === 0) return undefined;
      const mean = sum / n;
      return { mean: mean / 255, std: Math.sqrt(Math.max(0, sq / n - mean * mean)) / 255 };
    } finally {
      cache.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * timm's mean / std for the input normalisation: exact for the affine ones (x / divide - mean) / std, as
 * timm applies ((x / 255) - m) / s; per-image standardisation has no fixed equivalent, so the training
 * images' pixel mean and std stand in for it (`exact: false`), and the note says so.
 */
export function timmNormalisation(norm: InputNormalisation, stats?: { mean: number; std: number }): { mean: number[]; std: number[]; exact: boolean } {
  if (norm.type === 'affine') {
    const k = 255 / norm.divide; // x / divide = (x / 255) * k
    return { mean: norm.mean.map((m) => m / k), std: norm.std.map((s) => s / k), exact: true };
  }
  const s = stats ?? { mean: 0.5, std: 0.25 };
  return { mean: [s.mean], std: [s.std], exact: false };
}

/** The timm fields of config.json, or {} for an architecture timm does not share with us. */
export function timmConfig(a: { timm?: string; inChans: number; size: number; features: number; norm: InputNormalisation; stats?: { mean: number; std: number }; license: string; method: string }) {
  const names = a.timm ? TIMM_ARCHITECTURES[a.timm] : undefined;
  if (!a.timm || !names) return {};
  const { mean, std, exact } = timmNormalisation(a.norm, a.stats);
  return {
    num_classes: 0,
    num_features: a.features,
    pretrained_cfg: {
      input_size: [a.inChans, a.size, a.size],
      interpolation: 'bilinear',
      crop_pct: 1,
      crop_mode: 'center',
      mean,
      std,
      num_classes: 0,
      ...names,
      license: a.license,
      tag: a.method,
      ...(exact
        ? {}
        : {
            notes: [
              `cxr-ssl standardises each image on its own ((x - mean(x)) / sqrt(var(x) + ${a.norm.type === 'per-image' ? a.norm.eps : 0})): ${a.stats ? "mean and std here are the training images' pixel mean and std, the nearest fixed normalisation" : 'mean and std here are placeholders (the training images were not found at export)'}; cxr_ssl.load_encoder's preprocess is exact`,
            ],
          }),
    },
  };
}
