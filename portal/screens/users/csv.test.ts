import { describe, expect, it } from 'vitest';
import type { ManagedUser } from '../../../crds/api/index.ts';
import { userNameForEmail } from '../../../sp-server/scim/labels.ts';
import { MAX_IMPORT_ROWS, planImport } from './csv.ts';

const existing = { apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'ManagedUser', metadata: { name: 'jit-1' }, spec: { email: 'Old@Example.com', sso: 'Inherit', active: true } } as ManagedUser;

describe('CSV import plan', () => {
  it('plans creates with derived names and updates of existing users by email', () => {
    const plan = planImport(Buffer.from('\uFEFFEmail,roles,active\r\nnew@example.com,a;b; a ,FALSE\r\nold@example.com,,\r\n\r\n'), [existing]);
    expect(plan).toEqual({
      ok: true,
      rows: [
        { line: 2, email: 'new@example.com', name: userNameForEmail('new@example.com'), existing: undefined, changes: { email: 'new@example.com', roles: ['a', 'b'], active: false } },
        { line: 3, email: 'old@example.com', name: 'jit-1', existing, changes: {} },
      ],
    });
  });

  it('reports every bad row with its line, and quoted multi-line cells keep the count right', () => {
    const plan = planImport(Buffer.from('email,displayName,sso\n"a@example.com","two\nlines",Enabled\nb@example.com,,sometimes\n,,\nA@example.com,,\n'), []);
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.problems.map((p) => [p.line, p.message])).toEqual([
      [4, 'sso: "sometimes" is not one of Inherit, Enabled, Disabled'],
      [5, 'email is empty'],
      [6, 'A@example.com already appears on line 2'],
    ]);
  });

  it('refuses broken CSV, a bad header, an empty file and too many rows', () => {
    const problems = (text: string) => {
      const p = planImport(Buffer.from(text), []);
      return p.ok ? [] : p.problems.map((x) => `${x.line}: ${x.message}`);
    };
    expect(problems('email\n"unclosed@example.com\n')[0]).toMatch(/^\d+: not valid CSV/);
    expect(problems('email,email\na@example.com,b@example.com\n')).toEqual(['1: column "email" appears twice in the header']);
    expect(problems('displayName\nA\n')).toEqual(['1: the header has no email column (expected email,displayName,roles,sso,active)']);
    expect(problems('')[0]).toMatch(/^1: the file is empty/);
    expect(problems('email\n')).toEqual(['1: the file has a header but no users']);
    const many = ['email', ...Array.from({ length: MAX_IMPORT_ROWS + 1 }, (_, i) => `u${i}@example.com`)].join('\n');
    expect(problems(many)).toEqual([`1: the file has ${MAX_IMPORT_ROWS + 1} users; at most ${MAX_IMPORT_ROWS} can be imported at once`]);
  });
});
