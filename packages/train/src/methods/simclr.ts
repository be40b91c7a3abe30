import type { SimclrOptions } from '@cxr-ssl/data';
import type { Method } from './method.ts';

/** SimCLR: NT-Xent between the two views of each image. */
export const simclr: Method<SimclrOptions> = { loss: (o) => ({ name: 'nt-xent', temperature: o.temperature }) };
