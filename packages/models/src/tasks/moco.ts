import { projectorHead } from './projector.ts';

/** MoCo v2: query and key views through the projection MLP (MoCo v2's addition to MoCo v1). */
export const mocoHead = projectorHead;
