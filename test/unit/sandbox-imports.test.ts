import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain JS module shared with eslint.config.js
import { forbiddenModules, forbiddenPatterns } from '../sandbox-rules.js';

const root = join(import.meta.dirname, '..', '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Every module a file imports at runtime (type-only imports and exports excluded). */
function valueImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) {
      const named = node.importClause?.namedBindings;
      const allTypes =
        node.importClause !== undefined &&
        node.importClause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((e) => e.isTypeOnly);
      if (!allTypes) found.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier) {
      found.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function isForbidden(spec: string): boolean {
  if ((forbiddenModules as string[]).includes(spec) || spec.startsWith('node:') || spec.startsWith('drizzle-orm/')) return true;
  return (forbiddenPatterns as string[]).some((pattern) => new RegExp(`(^|/)${pattern.replaceAll('*', '').replaceAll('/', '')}(/|$)`).test(spec));
}

describe('workflows/, domain/ and contracts/ stay sandbox-safe', () => {
  const files = ['workflows', 'domain', 'contracts'].flatMap((dir) => tsFiles(join(root, dir)));

  it('finds the workflow sources', () => {
    expect(files.length).toBeGreaterThan(3);
  });

  it('no workflow file imports Node built-ins, I/O libraries or activity/db/worker values', () => {
    const offenders = files.flatMap((f) => valueImports(f).filter(isForbidden).map((spec) => `${relative(root, f)} -> ${spec}`));
    expect(offenders).toEqual([]);
  });

  it('the import scanner itself catches a forbidden import', () => {
    const probe = join(root, 'test', 'fixtures', 'bad-workflow.ts.txt');
    const specs = valueImports(probe);
    expect(specs.filter(isForbidden)).toEqual(['node:fs', 'postgres', '../../activities/venue']);
  });

  it('the ESLint rule rejects value imports and allows type-only ones', async () => {
    const eslint = new ESLint({ cwd: root });
    const bad = await eslint.lintText(readFileSync(join(root, 'test', 'fixtures', 'bad-workflow.ts.txt'), 'utf8'), {
      filePath: join(root, 'workflows', 'probe.ts'),
    });
    const ruleHits = bad[0]!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports');
    expect(ruleHits.length).toBe(3);
    const clock = bad[0]!.messages.filter((m) => m.ruleId === 'no-restricted-properties');
    expect(clock.length).toBe(1);

    const good = await eslint.lintText("import type { Sql } from 'postgres';\nexport type S = Sql;\n", {
      filePath: join(root, 'workflows', 'probe.ts'),
    });
    expect(good[0]!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')).toEqual([]);
  });
});
