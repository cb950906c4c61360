import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../kube/informer.ts';
import { PortalWriteError, type ApplyOptions, type Organization } from '../../organization.ts';
import { importRows, mapBounded } from './bulk-apply.ts';
import type { PlannedRow } from './csv.ts';

const row = (line: number, email: string): PlannedRow => ({ line, email, name: `u${line}`, existing: undefined, changes: { email } });
const rows = [row(2, 'a@example.com'), row(3, 'b@example.com'), row(4, 'c@example.com')];

/** An API server that stores what it is given, except as `refuse` says. */
function fakeOrg(refuse: (name: string, o: ApplyOptions) => boolean) {
  const calls: string[] = [];
  const org: Pick<Organization, 'apply' | 'edit'> = {
    edit: async () => {
      throw new Error('no existing users in these rows');
    },
    apply: async <T extends KubeObject>(_kind: string, name: string, fields: { spec?: unknown }, o: ApplyOptions = {}) => {
      calls.push(`${o.dryRun ? 'dry-run' : 'apply'} ${name}`);
      if (refuse(name, o)) throw new PortalWriteError('invalid', `refused ${name}`);
      return { metadata: { name }, spec: fields.spec } as unknown as T;
    },
  };
  return { org, calls };
}

describe('import writes', () => {
  it('applies nothing when any dry run is refused', async () => {
    const { org, calls } = fakeOrg((name, o) => !!o.dryRun && name === 'u3');
    expect(await importRows(org, rows)).toEqual({ stage: 'checked', refused: [{ row: rows[1], message: 'refused u3' }] });
    expect(calls.filter((c) => c.startsWith('apply'))).toEqual([]);
  });

  it('says exactly which rows were saved when the API server refuses one after its dry run passed', async () => {
    const { org, calls } = fakeOrg((name, o) => !o.dryRun && name === 'u3');
    expect(await importRows(org, rows, 2)).toEqual({ stage: 'applied', saved: [rows[0], rows[2]], failed: [{ row: rows[1], message: 'refused u3' }] });
    expect(calls.filter((c) => c.startsWith('dry-run'))).toHaveLength(3);
  });

  it('keeps at most the given number of writes in flight, results in order', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });
});
