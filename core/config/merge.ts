// core/config/merge.ts — combining config sources in order, by Consul's rules.
//
// Owns: the merge rule of Consul's agent/config Merge: a later scalar replaces an earlier one,
// a later list is appended to the earlier one, a later map replaces the earlier one when it is
// not empty, nested blocks merge key by key (which the flat dotted paths of a Fragment give).
// Must never: validate values (build.ts does, knowing which source set what).
import type { Fragment } from './decode.ts';

/** Merge `sources` left to right into a new Fragment. */
export function mergeFragments(sources: readonly Fragment[]): Fragment {
  const out: Fragment = new Map();
  for (const src of sources) {
    for (const [path, s] of src) {
      const prev = out.get(path);
      if (s.kind === 'list') {
        out.set(path, { kind: 'list', items: [...(prev?.kind === 'list' ? prev.items : []), ...s.items] });
      } else if (s.kind === 'map') {
        if (Object.keys(s.value).length > 0 || prev === undefined) out.set(path, s);
      } else {
        out.set(path, s);
      }
    }
  }
  return out;
}
