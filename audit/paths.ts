/** A file-name segment from a name a run was given (workflow id, run id, cluster): no separators, never `.` or `..`. */
export function pathSegment(s: string): string {
  return /^\.*$/.test(s) ? '_' : s.replace(/[^A-Za-z0-9._-]/g, '_');
}
