import { projectorHead } from './projector.ts';

/** SimCLR: two views through the projection MLP (Chen et al. 2020). */
export const simclrHead = projectorHead;
