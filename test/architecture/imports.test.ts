// The direction of imports: no cycle between folders of src/ and graphs/, and graphs/ never imports src/.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The folder a file belongs to: `src/<folder>` or `graphs/<folder>` (top-level files are their own unit). */
function unitOf(path: string): string {
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(0, 2).join('/') : path;
}

/** Folder-level import edges: unit → units it imports, with one importing file per edge as evidence. */
function importEdges(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const file of [...sourceFiles('src'), ...sourceFiles('graphs')]) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const target = normalize(join(dirname(file), (m[1] ?? m[2])!));
      const from = unitOf(file);
      const to = unitOf(relative('.', target));
      if (from === to) continue;
      if (!edges.has(from)) edges.set(from, new Map());
      edges.get(from)!.set(to, `${file} → ${target}`);
    }
  }
  return edges;
}

/** Strongly connected components with more than one unit (Tarjan). */
function cycles(edges: Map<string, Map<string, string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no import cycle between folders of src/ and graphs/', () => {
  const edges = importEdges();
  const found = cycles(edges);
  const evidence = found.map((c) =>
    c
      .flatMap((a) => c.filter((b) => edges.get(a)?.has(b)).map((b) => `  ${edges.get(a)!.get(b)}`))
      .join('\n'),
  );
  assert.deepEqual(found, [], `import cycles between folders:\n${evidence.join('\n\n')}`);
});

test('graphs/ never imports src/', () => {
  const offending = [...importEdges()]
    .filter(([from]) => from.startsWith('graphs'))
    .flatMap(([, to]) => [...to].filter(([unit]) => unit.startsWith('src')).map(([, why]) => why));
  assert.deepEqual(offending, []);
});

test('the cycle finder finds a planted cycle', () => {
  const planted = new Map([
    ['src/a', new Map([['src/b', 'a → b']])],
    ['src/b', new Map([['src/c', 'b → c']])],
    ['src/c', new Map([['src/a', 'c → a']])],
    ['src/d', new Map([['src/a', 'd → a']])],
  ]);
  assert.deepEqual(cycles(planted), [['src/a', 'src/b', 'src/c']]);
});
