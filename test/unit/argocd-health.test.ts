// The Argo CD health check the README documents (docs/argocd-health.lua), run in a Lua VM
// against the status shapes the operator writes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lauxlib, lua, lualib, to_luastring } from 'fengari';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const script = readFileSync(join(root, 'docs', 'argocd-health.lua'), 'utf8');

/** A JSON value as a Lua table constructor, as Argo CD hands `obj` to the script. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`).join(', ')}}`;
}

function health(obj: unknown): { status: string; message: string } {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const source = `obj = ${toLua(obj)}\nlocal function check()\n${script}\nend\nlocal hs = check()\nreturn hs.status, hs.message`;
  if (lauxlib.luaL_loadstring(L, to_luastring(source)) !== lua.LUA_OK) throw new Error(lua.lua_tojsstring(L, -1));
  if (lua.lua_pcall(L, 0, 2, 0) !== lua.LUA_OK) throw new Error(lua.lua_tojsstring(L, -1));
  return { status: lua.lua_tojsstring(L, -2), message: lua.lua_tojsstring(L, -1) };
}

const cond = (type: string, status: string, reason = 'R', message = 'm') => ({ type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' });
const profile = (generation: number, status?: unknown) => ({ apiVersion: 'sso.gatehouse.dev/v1alpha1', kind: 'SSOProfile', metadata: { name: 'okta', generation }, spec: {}, status });

describe('Argo CD health check for the Gatehouse kinds', () => {
  it('is Progressing before the operator wrote any status', () => {
    expect(health(profile(1)).status).toBe('Progressing');
  });

  it('is Progressing while the operator has not observed the latest generation, even if Ready', () => {
    expect(health(profile(3, { observedGeneration: 2, conditions: [cond('Ready', 'True')] }))).toEqual({ status: 'Progressing', message: 'Waiting for the operator to observe generation 3' });
  });

  it('is Healthy when Ready is True for the current generation', () => {
    expect(health(profile(3, { observedGeneration: 3, conditions: [cond('Tested', 'True'), cond('Ready', 'True', 'Ready', 'SSO enforced on acme.com')] }))).toEqual({ status: 'Healthy', message: 'SSO enforced on acme.com' });
  });

  it('is Degraded when Ready is False, with the reason', () => {
    expect(health(profile(1, { observedGeneration: 1, conditions: [cond('Ready', 'False', 'IdPMetadataInvalid', 'no signing certificate')] }))).toEqual({ status: 'Degraded', message: 'IdPMetadataInvalid: no signing certificate' });
  });

  it('Stalled wins over Ready; Reconciling means Progressing', () => {
    expect(health(profile(1, { observedGeneration: 1, conditions: [cond('Ready', 'True'), cond('Stalled', 'True', 'Conflict', 'claimed by another organization')] })).status).toBe('Degraded');
    expect(health(profile(1, { observedGeneration: 1, conditions: [cond('Reconciling', 'True', 'Enforcing', '40/100 users')] }))).toEqual({ status: 'Progressing', message: '40/100 users' });
  });

  it('is Progressing while Ready is Unknown or absent', () => {
    expect(health(profile(1, { observedGeneration: 1, conditions: [cond('Ready', 'Unknown')] })).status).toBe('Progressing');
    expect(health(profile(1, { observedGeneration: 1, conditions: [] })).status).toBe('Progressing');
  });

  it('is the script the README tells admins to install, for all three kinds', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const indented = script.trimEnd().split('\n').map((l) => (l === '' ? '' : `    ${l}`)).join('\n');
    for (const kind of ['VerifiedDomain', 'ManagedUser', 'SSOProfile']) {
      expect(readme).toContain(`  resource.customizations.health.sso.gatehouse.dev_${kind}: |\n${indented}\n`);
    }
  });
});
