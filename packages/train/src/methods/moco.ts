import type { MocoOptions } from '@cxr-ssl/data';
import type { Method } from './method.ts';

/** MoCo v2: InfoNCE of a query against its momentum-encoded key and a queue of earlier keys. */
export const moco: Method<MocoOptions> = {
  loss: (o) => ({ name: 'info-nce', temperature: o.temperature, queue: o.queue, momentum: o.momentum, shuffleGroups: o.shuffleGroups }),
  engines: ['torch'],
  // a queue as large as the data set holds stale keys of the very images it is the negative for
  caution: (o, { trainImages }) =>
    o.queue >= trainImages
      ? `moco's queue of ${o.queue} keys is not smaller than the train split (${trainImages} images): many negatives are earlier keys of the query's own image. Set queue below ${trainImages} (--set queue=N, or pretext.options.moco.queue in a reproduce config)`
      : undefined,
};
