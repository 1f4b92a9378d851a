// The `spark` settings section as the server should see it. The client owns `spark.server.*`
// (how to start the server) and `spark.trace.*` (vscode-languageclient's protocol trace); the
// server would warn about them as unknown settings, so they are taken out of what it is sent.

export const CLIENT_ONLY_GROUPS: readonly string[] = ['server', 'trace'];

/** A copy of the `spark` section without the client's own groups (other values unchanged). */
export function serverSection(section: unknown): unknown {
  if (typeof section !== 'object' || section === null || Array.isArray(section)) {
    return section;
  }
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    const group = key.split('.')[0];
    if (!CLIENT_ONLY_GROUPS.includes(group)) {
      copy[key] = value;
    }
  }
  return copy;
}

/** Whether a `workspace/configuration` item asks for the whole `spark` section. */
export function isSparkSection(section: string | undefined): boolean {
  return section === 'spark';
}
