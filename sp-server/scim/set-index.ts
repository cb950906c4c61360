// An inverted index for the watch caches: each slot (an address, a group member) names the set of
// objects filed under it; a slot left empty is dropped, so the index holds only live terms.
export class SetIndex {
  private readonly slots = new Map<string, Set<string>>();

  add(slot: string, key: string): void {
    let keys = this.slots.get(slot);
    if (!keys) this.slots.set(slot, (keys = new Set()));
    keys.add(key);
  }

  delete(slot: string, key: string): void {
    const keys = this.slots.get(slot);
    keys?.delete(key);
    if (keys?.size === 0) this.slots.delete(slot);
  }

  get(slot: string): ReadonlySet<string> | undefined {
    return this.slots.get(slot);
  }
}
