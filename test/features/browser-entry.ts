// Browser side of the train/serve test: encodes records and parses event files with the
// portable code, returning plain data for comparison with Node.
import { flattenRecord } from '../../src/data/flatten.ts';
import { parseEventBytes } from '../../src/data/parse.ts';
import { encodeRecord, extractRaw, numNumericalFeatures, parseSpec } from '../../src/features/spec.ts';

/** Encodes records with a spec; numbers come back as their float32 bit patterns. */
export function encodeAll(
  specJson: string,
  records: object[],
): { numBits: number[]; cat: number[]; rawCat: (string | null)[][] } {
  const spec = parseSpec(specJson);
  const fn = numNumericalFeatures(spec);
  const fc = spec.categorical.length;
  const num = new Float32Array(records.length * fn);
  const cat = new Int32Array(records.length * fc);
  for (const [i, r] of records.entries()) encodeRecord(spec, r, num, i * fn, cat, i * fc);
  return {
    numBits: Array.from(new Uint32Array(num.buffer)),
    cat: Array.from(cat),
    rawCat: records.map((r) => extractRaw(spec, r).cat),
  };
}

/** Fetches event files from the page's server and parses them with the portable readers. */
export async function parseFiles(names: string[]): Promise<Record<string, unknown>[][]> {
  const out: Record<string, unknown>[][] = [];
  for (const name of names) {
    const bytes = new Uint8Array(await (await fetch(`/data/${name}`)).arrayBuffer());
    const { records } = await parseEventBytes(name, bytes);
    out.push(records.map(flattenRecord));
  }
  return out;
}
