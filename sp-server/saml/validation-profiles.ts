// Which worker threads of the validation pool hold which profile: a profile crosses to a thread
// once (structured cloning its keys and certificates cost about as much CPU on each side as the
// rest of the hand-off), and later tasks name it by a key. A task goes without the profile once any
// current thread holds it; a thread that does not answers so, and the task goes again with it
// (once per thread and profile). The config store replaces profiles
// wholesale on every change and never edits one, so an object's key names one content for good.
import type { RenderedSAMLProfile } from '../../crds/api/index.ts';

export interface ProfileKeys {
  /** The profile's key, and whether any current thread holds it (else the task carries it). */
  lookup(profile: RenderedSAMLProfile): { key: number; held: boolean };
  /** A thread answered a task for the profile, so it holds it now. */
  held(profile: RenderedSAMLProfile, thread: number): void;
  /** A thread answered that it does not hold the profile (it started since, or dropped it). */
  missing(profile: RenderedSAMLProfile, thread: number): void;
}

export function profileKeys(currentThreads: () => readonly number[]): ProfileKeys {
  // Weak: a profile a config change replaced goes with its entry.
  const known = new WeakMap<RenderedSAMLProfile, { key: number; threads: Set<number> }>();
  let next = 0;
  const entry = (profile: RenderedSAMLProfile) => {
    let e = known.get(profile);
    if (e === undefined) {
      e = { key: ++next, threads: new Set() };
      known.set(profile, e);
    }
    return e;
  };
  return {
    lookup(profile) {
      const e = entry(profile);
      return { key: e.key, held: e.threads.size > 0 && currentThreads().some((t) => e.threads.has(t)) };
    },
    held(profile, thread) {
      entry(profile).threads.add(thread);
    },
    missing(profile, thread) {
      entry(profile).threads.delete(thread);
    },
  };
}
