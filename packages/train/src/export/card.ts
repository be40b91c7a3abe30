import type { HubConfig } from './hub.ts';

/** One evaluation row for the card: a subset of eval's ResultRow (train does not import eval). */
export interface CardRow {
  size: number;
  protocol: string;
  fraction: number;
  seed: number;
  data?: string;
  accuracy: number;
  auc: number;
  n_test: number;
  ci: { accuracy: [number, number]; auc: [number, number] };
  paired?: Record<string, { auc: { diff: number; ci: [number, number] } }>;
}

/** What we know about the collections people train on (`source`: where the images came from) and the main limitation. */
const KNOWN_DATA: { match: RegExp; source: string; limitation: string; license: string }[] = [
  {
    match: /kermany/i,
    license: 'cc-by-4.0',
    source: 'Kermany et al. (2018) paediatric chest X-rays (anterior-posterior films of children aged 1 to 5 from Guangzhou Women and Children’s Medical Center, normal vs pneumonia; CC BY 4.0)',
    limitation: 'Pretrained on pediatric X-rays from one hospital: adult films, other scanners and other projections are out of its training distribution.',
  },
  {
    match: /nih|chestx-?ray14/i,
    license: 'other', // the NIH Clinical Center's own terms: free use, acknowledge the NIH
    source: 'NIH ChestX-ray14 (112,120 frontal chest X-rays of 30,805 adult patients, NIH Clinical Center)',
    limitation: 'Pretrained on adult frontal films from one centre; NIH labels are mined from reports and noisy.',
  },
];

/** The licence of weights trained on a data set: the data's (a model hub's identifier), `unknown` for data we do not know. */
export function dataLicence(dataset: string | readonly string[]): string {
  if (typeof dataset !== 'string') {
    // a pool: the licence its sets share, else unknown (each set's own terms apply)
    const each = new Set(dataset.map((d) => dataLicence(d)));
    return each.size === 1 ? [...each][0] : 'unknown';
  }
  return KNOWN_DATA.find((k) => k.match.test(dataset))?.license ?? 'unknown';
}

/** torchvision ImageNet weights on a model hub, by our encoder: the card's `base_model` when a run started from them. */
const IMAGENET_BASE: Record<string, string> = {
  'resnet18-torchvision': 'timm/resnet18.tv_in1k',
  'resnet50-torchvision': 'timm/resnet50.tv_in1k',
  'densenet121-torchvision': 'timm/densenet121.tv_in1k',
  'vgg16-torchvision': 'timm/vgg16.tv_in1k',
  'vgg16-bn-torchvision': 'timm/vgg16_bn.tv_in1k',
};

/** The YAML front matter a model hub indexes (license, library, tags, datasets, base model). */
function hubMetadata(c: HubConfig): string[] {
  const timm = 'pretrained_cfg' in c;
  const base = c.init !== 'random' ? IMAGENET_BASE[c.encoder] : undefined;
  return [
    '---',
    `license: ${c.license}`,
    `library_name: ${timm ? 'timm' : 'cxr-ssl'}`,
    'pipeline_tag: image-feature-extraction',
    'tags:',
    ...['image-feature-extraction', 'self-supervised-learning', 'chest-x-ray', 'medical-imaging', 'cxr-ssl', c.method, ...(timm ? ['timm'] : [])].map((t) => `- ${t}`),
    'datasets:',
    ...(c.dataset.sources?.map((d) => d.name) ?? [c.dataset.name]).map((d) => `- ${d}`),
    ...(base ? [`base_model: ${base}`] : []),
    '---',
    '',
  ];
}

const pct = (x: number) => (100 * x).toFixed(1);
/** "1 update", "40 updates" */
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** Below this many train images the card says the encoder is a demonstration (the bundled fixture has 57). */
const FEW_IMAGES = 1000;

/** The card's "training data": the images this run saw, and the collection they came from when known. */
function trainingData(c: HubConfig, source?: string): string {
  const n = c.dataset.train_images;
  const pool = c.dataset.sources?.map((d) => `\`${d.name}\`${d.weight === null ? '' : ` (weight ${d.weight})`}`);
  const set = pool ? `the prepared data sets ${pool.join(' and ')}, pooled` : `the prepared data set \`${c.dataset.name}\``;
  const seen = n === undefined ? `Pretrained on ${set}` : `Pretrained on ${count(n, 'image')} (the train split of ${set})`;
  return `${seen}${source ? `, from ${source}` : ''}. Images were converted to 8-bit grey and resized to ${c.input_size[0]} × ${c.input_size[1]} px; labels were not used in pretraining.`;
}

function rowsTable(rows: CardRow[]): string[] {
  if (rows.length === 0) return ['No evaluation was given at export (`cxr-ssl export --results results.json` adds the rows of this encoder).'];
  const lines = [
    '| protocol | labels | seed | data | size | accuracy % [95% CI] | AUC % [95% CI] | ΔAUC vs random init [95% CI] | n test |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const d = r.paired?.random?.auc;
    const delta = d ? `${d.diff >= 0 ? '+' : ''}${pct(d.diff)} [${pct(d.ci[0])}, ${pct(d.ci[1])}]` : '–';
    lines.push(
      `| ${r.protocol} | ${+(100 * r.fraction).toPrecision(3)}% | ${r.seed} | ${r.data ?? '–'} | ${r.size} | ${pct(r.accuracy)} [${pct(r.ci.accuracy[0])}, ${pct(r.ci.accuracy[1])}] | ${pct(r.auc)} [${pct(r.ci.auc[0])}, ${pct(r.ci.auc[1])}] | ${delta} | ${r.n_test} |`,
    );
  }
  return lines;
}

/** README.md of an export: a model card (intended use, data, method, evaluation, limitations, how to load). */
export function modelCard(c: HubConfig, rows: CardRow[]): string {
  const known = KNOWN_DATA.find((k) => k.match.test(c.dataset.name));
  const norm = c.input_normalisation;
  const normText =
    norm.type === 'per-image'
      ? `each image standardised on its own: (x − mean(x)) / sqrt(var(x) + ${norm.eps}), x the grey pixels 0..255`
      : `channel c = (x / ${norm.divide} − mean[c]) / std[c], x the grey pixels 0..255 copied to ${c.in_chans} channel(s); mean ${JSON.stringify(norm.mean)}, std ${JSON.stringify(norm.std)}`;
  const tv = c.torchvision_architecture;
  return [
    ...hubMetadata(c),
    `# ${c.encoder} pretrained by ${c.method} on ${c.dataset.name} (cxr-ssl ${c.cxr_ssl_version})`,
    '',
    `A ${c.encoder} image encoder (${c.feature_dim}-dim features after global average pooling), pretrained without labels by the self-supervised method **${c.method}** with cxr-ssl ${c.cxr_ssl_version} on chest X-rays.`,
    '',
    '## Intended use',
    '',
    'Research: a starting point for chest X-ray classifiers (linear probe, kNN or fine-tuning) when labels are few. It is not a medical device and makes no diagnosis; nothing here was validated for clinical use.',
    '',
    '## Training data',
    '',
    trainingData(c, known?.source),
    '',
    '## Method and settings',
    '',
    `- method: \`${c.method}\`, options \`${JSON.stringify(c.method_options)}\``,
    `- ${count(c.steps, 'update')} (${count(c.epochs, 'epoch')} planned, batch ${c.batch_size}), optimiser \`${JSON.stringify(c.optimizer)}\`, schedule \`${JSON.stringify(c.schedule)}\`, seed ${c.seed}, init ${c.init}`,
    `- input: ${c.input_size[0]} × ${c.input_size[1]} grey; normalisation: ${normText}`,
    '',
    '## Evaluation',
    '',
    ...rowsTable(rows),
    '',
    '## Limitations',
    '',
    ...(c.dataset.train_images !== undefined && c.dataset.train_images < FEW_IMAGES ? [`- Pretrained on only ${count(c.dataset.train_images, 'image')}: it shows the pipeline at work; it is not an encoder to build on.`] : []),
    `- ${known?.limitation ?? 'Trained on one data set: check it on yours before relying on it.'}`,
    `- Trained at ${c.input_size[0]} px; other sizes run (global pooling) but were not evaluated.`,
    '- Self-supervised features can encode shortcuts (burnt-in markers, borders, exposure) as well as anatomy.',
    '',
    '## Files and how to load',
    '',
    '- `model.safetensors`: the complete torch state dict (BatchNorm buffers and `num_batches_tracked` included), torchvision names.',
    '- `config.json`: architecture, input size and normalisation, feature dimension, method, options, steps, data set.',
    '- `encoder.onnx`: input `pixels` float32 [N, 1, H, W] raw grey 0..255 (normalisation inside), output `features` [N, F].',
    '- `.cxr-ssl-export.json`: the path of the run folder this export came from, so that only a later export of that run replaces this folder; not needed to load the model (leave it out when you share it).',
    '',
    '```python',
    'from cxr_ssl import load_encoder  # pip install cxr-ssl (the wheel of packages/python)',
    `model, preprocess = load_encoder("this-folder")${tv ? `  # torchvision's ${tv} (or cxr_ssl's copy of it)` : ''}`,
    'features = model(preprocess(image).unsqueeze(0))  # image: PIL image, HxW uint8 array or tensor',
    '```',
    ...(tv
      ? [
          '',
          `Plain torchvision (${tv}; its classifier replaced by an identity${c.in_chans === 1 ? ', the first conv by a one-channel one' : ''}):`,
          '',
          '```python',
          'import torch, torchvision',
          'from safetensors.torch import load_file',
          `m = torchvision.models.${tv}()`,
          ...(tv.startsWith('resnet')
            ? [...(c.in_chans === 1 ? ['m.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)'] : []), 'm.fc = torch.nn.Identity()']
            : tv.startsWith('densenet')
              ? [...(c.in_chans === 1 ? ['m.features.conv0 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)'] : []), 'm.classifier = torch.nn.Identity()']
              : [...(c.in_chans === 1 ? ['m.features[0] = torch.nn.Conv2d(1, 64, 3, padding=1)'] : []), 'm.avgpool, m.classifier = torch.nn.AdaptiveAvgPool2d(1), torch.nn.Identity()']),
          'm.load_state_dict(load_file("model.safetensors"), strict=True)',
          '```',
        ]
      : []),
    ...('pretrained_cfg' in c
      ? [
          '',
          `timm (\`${c.architecture}\`, ${c.in_chans} input channel${c.in_chans === 1 ? '' : 's'}, no classifier; config.json carries timm's \`pretrained_cfg\`):`,
          '',
          '```python',
          'import timm',
          'm = timm.create_model("local-dir:this-folder", pretrained=True)',
          '```',
        ]
      : []),
    '',
  ].join('\n');
}
