/** `application_name` for every database session (docs/connections.md §8). */

/** PostgreSQL keeps 63 bytes (NAMEDATALEN - 1) of application_name. */
const MAX = 63;

function clean(name: string): string {
  return (
    name
      .replace(/['"\\]/g, "")
      // The server replaces anything but printable ASCII with '?'; do it first so the cut is exact.
      .replace(/[^\x20-\x7e]/g, "?")
      .slice(0, MAX)
  );
}

/** `lv-<realm>-<job_id>`, quotes and backslashes removed, cut to 63 characters. */
export function jobApplicationName(realm: string, jobId: string): string {
  return clean(`lv-${realm}-${jobId}`);
}

/** `lv-<realm>-psql-<conn_id>` for the CLI's psql sessions. */
export function psqlApplicationName(realm: string, connId: string): string {
  return clean(`lv-${realm}-psql-${connId}`);
}
