import { openCache } from '@cxr-ssl/data';
import { extractFeatures } from './extract.ts';
import { knnScores } from './knn.ts';
import { auc } from './metrics.ts';
import { openEncoderSession } from './session.ts';

/**
 * Tests' yardstick of an encoder: the kNN probe on a prepared cache's train split, scored on its
 * test split (labels, scores, AUC), so a learning test can pair it against random init.
 */
export async function knnAucOnCache(cacheDir: string, name: string, size: number, onnx: Uint8Array) {
  const cache = openCache(cacheDir, name, size);
  const { session } = await openEncoderSession(onnx, { provider: 'cpu' });
  const split = async (s: 'train' | 'test') => {
    const indices = cache.indices(s);
    const f = await extractFeatures({ session, images: cache, indices });
    return { ...f, labels: indices.map((i) => cache.manifest.entries[i].label) };
  };
  const train = await split('train');
  const test = await split('test');
  cache.close();
  const scores = knnScores(train.dim, train, test);
  return { labels: test.labels, scores, auc: auc(test.labels, scores) };
}
