import { lstatSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A settings file that is not as trustworthy as its role needs (owner, mode, kind). */
export class UntrustedFileError extends Error {
  override readonly name = 'UntrustedFileError';
}

/**
 * Reads a file that decides who may do what (access policy, trusted keys): it must be a regular
 * file (not a link, a device such as /dev/null, or a FIFO) owned by root and writable by nobody
 * else, in a directory owned by root that nobody else may write to, so no OS user can swap it.
 * `secret`: also readable by no one but its owner and group (signing keys). Throws
 * UntrustedFileError naming the file and what is wrong; ENOENT propagates as is.
 */
export function readRootOwned(file: string, what: string, o: { secret?: boolean } = {}): string {
  const st = lstatSync(file);
  if (!st.isFile()) throw new UntrustedFileError(`${what} ${file} is not a regular file`);
  if (st.uid !== 0) throw new UntrustedFileError(`${what} ${file} is owned by uid ${st.uid}, not root: refused`);
  if (st.mode & 0o022) throw new UntrustedFileError(`${what} ${file} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): refused`);
  if (o.secret && st.mode & 0o004) throw new UntrustedFileError(`${what} ${file} is readable by every user (mode ${(st.mode & 0o777).toString(8)}): refused`);
  const dir = lstatSync(dirname(file));
  if (dir.uid !== 0 || dir.mode & 0o022) throw new UntrustedFileError(`${what} ${file}: its directory is not root's alone (uid ${dir.uid}, mode ${(dir.mode & 0o777).toString(8)}): refused`);
  return readFileSync(file, 'utf8');
}
