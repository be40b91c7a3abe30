import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureDir } from '@cxr-ssl/data';

/**
 * The fixture's 96 real X-rays as a CSV manifest with their label structure, for tests of the
 * classes and findings targets. What the labels are (all from Kermany's own folders and file names):
 * - class: NORMAL, bacteria or virus (`person12_virus_1.png` is viral pneumonia);
 * - findings: [] for NORMAL; ['pneumonia', 'bacteria'] or ['pneumonia', 'virus'] for the others (two
 *   findings per abnormal image, one of them shared by all: a multi-label set, not a relabelled one);
 * - split: the fixture's, except that the patients with a viral image and an odd person number move
 *   from train to test (the fixture's test split has no viral image), whole patients.
 */
export function writeLabelledFixture(csvPath: string): { rows: number; testVirus: number } {
  const lines = ['path,label,split,patient,class,findings'];
  let testVirus = 0;
  const files = ['train', 'test'].flatMap((split) => ['NORMAL', 'PNEUMONIA'].flatMap((cls) => readdirSync(join(fixtureDir(), split, cls)).filter((f) => f.endsWith('.png')).sort().map((f) => ({ split, cls, f }))));
  const patientOf = (f: string) => /^(person\d+|(?:NORMAL2-)?IM-\d+)/.exec(f)?.[1] ?? f;
  const viralPatients = new Set(files.filter((x) => x.f.includes('_virus_')).map((x) => patientOf(x.f)));
  const moved = new Set([...viralPatients].filter((p) => Number(p.replace('person', '')) % 2 === 1));
  for (const { split, cls, f } of files) {
    const cause = /_(bacteria|virus)_/.exec(f)?.[1];
    const patient = patientOf(f);
    const s = moved.has(patient) ? 'test' : split;
    if (s === 'test' && cause === 'virus') testVirus++;
    lines.push([join(fixtureDir(), split, cls, f), cls === 'NORMAL' ? 0 : 1, s, patient, cause ?? 'NORMAL', cause ? `pneumonia|${cause}` : ''].join(','));
  }
  writeFileSync(csvPath, `${lines.join('\n')}\n`);
  return { rows: files.length, testVirus };
}
