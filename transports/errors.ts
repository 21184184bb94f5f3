// transports/errors.ts — turning Node system errors into sentences an operator can act on.
//
// Owns: errno → short explanation (+ how to fix) used by net, disk and probes.
// Must never: throw, or hide the errno code (people search for it).

const EXPLAIN: Record<string, string> = {
  EADDRINUSE: 'address already in use — another process (or another agent) holds this port; stop it or pick another port',
  EADDRNOTAVAIL: 'address not available — this ip is not an address of this machine; bind to a local address (127.0.0.x works on Linux)',
  EACCES: 'permission denied — check the owner and mode of the path (ports below 1024 need root)',
  EPERM: 'operation not permitted — check the owner and mode of the path',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a parent of the path is a file, not a directory',
  EISDIR: 'the path is a directory, not a file',
  ENOSPC: 'no space left on device — free some disk space',
  EROFS: 'read-only file system — choose a writable data dir',
  EMFILE: 'too many open files — raise the file descriptor limit (ulimit -n)',
  ENFILE: 'too many open files in the system',
  EDQUOT: 'disk quota exceeded',
  EIO: 'input/output error — the disk may be failing',
  ENAMETOOLONG: 'file name too long',
  EEXIST: 'file already exists',
  ENOTEMPTY: 'directory not empty',
};

export function errnoCode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return undefined;
}

/** "address already in use — … (EADDRINUSE)" or the raw message when the code is unknown. */
export function explainErrno(err: unknown): string {
  const code = errnoCode(err);
  if (code && EXPLAIN[code]) return `${EXPLAIN[code]} (${code})`;
  const message = err instanceof Error ? err.message : String(err);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
