import type { MocoOptions } from '@cxr-ssl/data';
import type { Method } from './method.ts';

/** MoCo v2: InfoNCE of a query against its momentum-encoded key and a queue of earlier keys. */
export const moco: Method<MocoOptions> = {
  loss: (o) => ({ name: 'info-nce', temperature: o.temperature, queue: o.queue, momentum: o.momentum, shuffleGroups: o.shuffleGroups }),
  engines: ['torch'],
};
