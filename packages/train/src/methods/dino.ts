import { dino as sampler, dinoSamplerOptions } from '@cxr-ssl/data';
import { dinoHead, HeadSpec } from '@cxr-ssl/models';
import { z } from 'zod';
import { cosineToOne, type Method, withLossOptions } from './method.ts';

const { options, samplerOptions } = withLossOptions(dinoSamplerOptions, {
  /** outputs of the head (the paper: 65,536 for ImageNet; on the fixture 1024 learnt nothing in 60 steps, 256 did) */
  prototypes: z.number().int().min(2).default(256),
  studentTemperature: z.number().positive().default(0.1),
  /** the teacher temperature warms up linearly from `warmupTeacherTemperature` to this over `teacherWarmup` of the steps */
  teacherTemperature: z.number().positive().default(0.07),
  warmupTeacherTemperature: z.number().positive().default(0.04),
  teacherWarmup: z.number().min(0).max(1).default(0.3),
  /** the teacher's moving-average rate at step 0, rising to 1 on a cosine (the paper: 0.996 for 100+ epochs; short runs want a faster teacher) */
  tau: z.number().min(0).max(1).default(0.99),
  /** centre <- m * centre + (1 - m) * the teacher's batch mean */
  centerMomentum: z.number().min(0).max(1).default(0.9),
});
export type DinoOptions = z.infer<typeof options>;

/** The teacher temperature of update `step`: a linear warm-up over the first `teacherWarmup` of the run. */
function teacherTemperatureAt(o: DinoOptions) {
  return (step: number, total: number) => {
    const warm = Math.round(o.teacherWarmup * total);
    return step >= warm ? o.teacherTemperature : o.warmupTeacherTemperature + ((o.teacherTemperature - o.warmupTeacherTemperature) * step) / warm;
  };
}

/** DINO: self-distillation, multi-crop student against a centred, sharpened EMA teacher. */
export const dino: Method<DinoOptions> = {
  options,
  sampler,
  samplerOptions,
  head: (e, o) => HeadSpec.parse(dinoHead(e, { prototypes: o.prototypes })),
  loss: (o) => ({ name: 'self-distillation', studentTemperature: o.studentTemperature, teacherTemperature: o.teacherTemperature, centerMomentum: o.centerMomentum }),
  engines: ['torch'],
  scalars: (o) => ({ tau: cosineToOne(o.tau), teacherTemp: teacherTemperatureAt(o) }),
  encodes: (shape) => ({ trained: shape, averaged: { views: shape.views, patch: shape.patch } }), // the teacher sees the global crops only
  // the head's BatchNorm normalises over the batch's crops: of one image, what its crops share (what tells images apart) is removed
  caution: (_, { batchSize }) =>
    batchSize < 2
      ? `dino at a batch of ${batchSize}: the BatchNorm of its head normalises each feature over the crops of one image, which removes what the crops share, so nothing in the head tells images apart. Use --batch-size 2 or more (DINO wants 64 or more)`
      : undefined,
  // a sharper teacher from the start: at 0.04-0.07 the 57 images' projections still point one way after
  // 30 steps, the centred teacher is flat and the loss stays at ln 256; at 0.02 it falls below (docs/DEMO.md)
  demo: () => ({ options: { teacherTemperature: 0.02, warmupTeacherTemperature: 0.02 } }),
  // training: the prototypes the student spreads its guess over; held out, each image's other crop among the batch's
  candidates: (o, batch, heldOut) => (heldOut ? batch : o.prototypes),
  collapseHint: (o) =>
    `a teacher too sharp or too flat (--set teacherTemperature=, now ${o.teacherTemperature}; warmupTeacherTemperature=), too little centring (--set centerMomentum=), more prototypes than the data can fill (--set prototypes=, now ${o.prototypes}), a teacher that follows too slowly for a short run (--set tau=, now ${o.tau}), or a learning rate too high (--lr)`,
};
