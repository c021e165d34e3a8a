/**
 * Imports point one way. Each top-level folder has a layer; a file may import from its own folder
 * or from a folder of a lower layer, never from one beside or above it. And no two files of the
 * product import each other, directly or round a longer circle (type-only imports count: a type
 * cycle still ties two modules together for the next reader).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..', '..');

/** Lower numbers are lower layers. Folders of one layer may not import each other. */
export const LAYERS: Record<string, number> = {
  domain: 0, // the pure rules
  contracts: 1, // what workflows, activities and venues agree on
  workflows: 2,
  db: 2,
  exchange: 2, // the paper exchange: its own process, on the domain only
  activities: 3,
  runtime: 4, // config, the Temporal connection, logs, metrics: shared by every process
  dashboard: 5,
  worker: 6, // starts the dashboard beside the worker
  cli: 7, // preflight opens the worker's activity dependencies
  testkit: 8,
  drills: 9,
  bench: 9,
  scripts: 10,
  test: 11,
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'fixtures' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts')]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Every relative import of a file (static, dynamic and `import type`), resolved to a file. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('.')).flatMap((s) => resolveImport(file, s) ?? []);
}

const folderOf = (file: string): string => relative(root, file).split('/')[0]!;
const productFolders = Object.keys(LAYERS).filter((f) => LAYERS[f]! < LAYERS.testkit!);
const allFiles = Object.keys(LAYERS).flatMap((f) => sourceFiles(join(root, f)));
const graph = new Map(allFiles.map((f) => [f, importsOf(f)]));

describe('imports point one way', () => {
  it('finds the sources of every layer', () => {
    for (const folder of productFolders) expect(allFiles.some((f) => folderOf(f) === folder), folder).toBe(true);
  });

  it('no file imports a folder of its own layer or above', () => {
    const wrong: string[] = [];
    for (const [file, targets] of graph) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (to === from || LAYERS[to] === undefined) continue;
        if (LAYERS[to]! >= LAYERS[from]!) wrong.push(`${relative(root, file)} -> ${relative(root, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no circle of imports among the product files', () => {
    const product = new Set(allFiles.filter((f) => productFolders.includes(folderOf(f))));
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (!product.has(next)) continue;
        if (state.get(next) === 'open') circles.push([...path.slice(path.indexOf(next)), next].map((f) => relative(root, f)).join(' -> '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of product) if (!state.has(file)) visit(file, [file]);
    expect(circles).toEqual([]);
  });

  it('the check sees a wrong-way import', () => {
    const domainFile = allFiles.find((f) => folderOf(f) === 'domain')!;
    const imports = ts.preProcessFile("import { x } from '../activities/index';", true, true).importedFiles.map((f) => f.fileName);
    const target = resolveImport(domainFile, imports[0]!);
    expect(target && LAYERS[folderOf(target)]! >= LAYERS.domain!).toBe(true);
  });
});
