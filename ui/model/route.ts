// ui/model/route.ts — hash routes of the UI (#/services, #/services/web3, #/nodes, #/nodes/n2,
// #/kv/<prefix-or-key>, #/raft) parsed to a Route and back.
//
// Owns: the route vocabulary and its encoding (each key segment percent-encoded, so any
// KV key round-trips). Must never: read window.location itself.

export type Route =
  | { page: 'services' }
  | { page: 'service'; name: string }
  | { page: 'nodes' }
  | { page: 'node'; name: string }
  | { page: 'kv'; path: string }
  | { page: 'raft' }
  | { page: 'notFound'; hash: string };

function decodeSegments(s: string): string | null {
  try {
    return s
      .split('/')
      .map((seg) => decodeURIComponent(seg))
      .join('/');
  } catch {
    return null;
  }
}

export function encodeSegments(s: string): string {
  return s
    .split('/')
    .map((seg) => encodeURIComponent(seg))
    .join('/');
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '');
  if (h === '' || h === '/' || h === '/services' || h === '/services/') return { page: 'services' };
  if (h === '/nodes' || h === '/nodes/') return { page: 'nodes' };
  if (h === '/raft') return { page: 'raft' };
  if (h === '/kv') return { page: 'kv', path: '' };
  const m = /^\/(services|nodes|kv)\/(.*)$/.exec(h);
  if (m) {
    const rest = decodeSegments(m[2]!);
    if (rest !== null) {
      if (m[1] === 'kv') return { page: 'kv', path: rest };
      if (rest !== '' && !rest.includes('/')) return m[1] === 'services' ? { page: 'service', name: rest } : { page: 'node', name: rest };
    }
  }
  return { page: 'notFound', hash };
}

export function href(r: Route): string {
  switch (r.page) {
    case 'services':
      return '#/services';
    case 'service':
      return `#/services/${encodeURIComponent(r.name)}`;
    case 'nodes':
      return '#/nodes';
    case 'node':
      return `#/nodes/${encodeURIComponent(r.name)}`;
    case 'kv':
      return `#/kv/${encodeSegments(r.path)}`;
    case 'raft':
      return '#/raft';
    case 'notFound':
      return r.hash;
  }
}
