// Atomic file replacement: write a temporary file beside the target in full (or fail), fsync it, rename
// it over the target, fsync the directory; temporary files left by killed processes are removed. Write
// failures (full disk, file-size limit, read-only or missing folder) become one-line user errors.
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';

const WHY: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file is larger than the size limit (ulimit -f)',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOENT: 'its folder does not exist',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EIO: 'an I/O error',
};

/** True for errors writing a file can meet that are about the place, not a bug (full disk, permissions). */
export function isWriteFault(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return typeof code === 'string' && (code in WHY || code === 'ESHORT');
}

/** A write failure as a one-line {@link UserError} naming the file and what to do; other errors as they are. */
export function writeError(path: string, e: unknown): unknown {
  if (!isWriteFault(e)) return e;
  const code = (e as { code: string }).code;
  const why = code === 'ESHORT' ? 'the disk stopped accepting data' : WHY[code]!;
  return new UserError(
    `cannot write ${path}: ${why} (${code}); free space or fix the folder's permissions, or choose another output path`,
  );
}

/**
 * A file-system error that names its path (a Node `fs` error: full disk, permissions, missing folder) as a
 * one-line {@link UserError}; null for anything else.
 */
export function fileSystemError(e: unknown): UserError | null {
  const { code, path, syscall } = (e ?? {}) as { code?: string; path?: string; syscall?: string };
  if (typeof code !== 'string' || typeof path !== 'string' || !(code in WHY)) return null;
  return new UserError(
    `cannot ${syscall ?? 'use'} ${path}: ${WHY[code]} (${code}); check the path, free space or fix its permissions`,
  );
}

/** Writes all of `bytes` to `fd`, looping over short writes; a write that makes no progress fails. */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) {
    const n = writeSync(fd, bytes, at, bytes.length - at);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'ESHORT' });
    at += n;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes `<name>.tmp-<pid>` files in `dir` left by processes that no longer run (killed mid-write);
 * with `name`, only those of that file. Returns the paths removed.
 */
export function removeStaleTemps(dir: string, name?: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const e of entries) {
    const m = /^(.*)\.tmp-(\d+)$/.exec(e);
    if (!m || (name !== undefined && m[1] !== name)) continue;
    const pid = Number(m[2]);
    if (pid === process.pid || pidAlive(pid)) continue;
    try {
      unlinkSync(join(dir, e));
      removed.push(join(dir, e));
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/** Fsyncs a directory so a rename inside it is durable; not every platform allows it. */
export function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Directories cannot be fsynced on every platform; the rename is still atomic.
  }
}

/**
 * Writes `bytes` to `path` via a temporary file beside it: every byte is written (short writes are
 * continued, a failing one aborts), the file is fsynced and renamed over `path`, and the directory
 * fsynced. On failure the temporary file is removed, `path` keeps its old content, and the error is a
 * one-line {@link UserError} for full disks, size limits and permissions.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const dir = dirname(path);
  removeStaleTemps(dir, basename(path));
  const tmp = `${path}.tmp-${process.pid}`;
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw writeError(path, e);
  }
  fsyncDir(dir);
}
