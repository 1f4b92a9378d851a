// The `spark` settings section as the server should see it. The client owns `spark.server.*`
// (how to start the server) and `spark.trace.*` (vscode-languageclient's protocol trace); the
// server would warn about them as unknown settings, so they are taken out of what it is sent.
//
// Machine-scoped settings (MACHINE_SETTINGS: the endpoint, the key command...) run a program or
// decide where the API key goes. The server never takes them from `workspace/configuration`,
// which a repository can influence in some editors, so this client sends the user's own
// values (user settings only) as initializationOptions and leaves them out of the answer.

import { MACHINE_SETTINGS } from './machineSettings';

export const CLIENT_ONLY_GROUPS: readonly string[] = ['server', 'trace'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A copy of `section` without `key` (`model.endpoint`), whether nested or dotted. */
function without(section: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...section };
  delete copy[key];
  const [group, name] = key.split('.');
  const nested = copy[group];
  if (isObject(nested) && name in nested) {
    const inner = { ...nested };
    delete inner[name];
    copy[group] = inner;
  }
  return copy;
}

/** A copy of the `spark` section without the client's own groups and the machine-scoped
 * settings (other values unchanged). */
export function serverSection(section: unknown): unknown {
  if (!isObject(section)) {
    return section;
  }
  let copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    const group = key.split('.')[0];
    if (!CLIENT_ONLY_GROUPS.includes(group)) {
      copy[key] = value;
    }
  }
  for (const key of MACHINE_SETTINGS) {
    copy = without(copy, key);
  }
  return copy;
}

/** Lists a workspace may add to but never shorten (the server's EXTENDED_BY_WORKSPACE). VS Code
 * answers `workspace/configuration` with the workspace's list in place of the user's, so the
 * user's own list also goes in initializationOptions: the server adds the workspace's to it. */
export const USER_FLOOR_SETTINGS: readonly string[] = ['context.exclude'];

/** initializationOptions holding the machine-scoped settings, and the lists a workspace may
 * only extend, as the user set them in their user settings (`userValue(key)` is
 * `inspect('spark.' + key).globalValue`). */
export function machineOptions(userValue: (key: string) => unknown): Record<string, unknown> {
  const spark: Record<string, Record<string, unknown>> = {};
  for (const key of [...MACHINE_SETTINGS, ...USER_FLOOR_SETTINGS]) {
    const value = userValue(key);
    if (value !== undefined) {
      const [group, name] = key.split('.');
      spark[group] = { ...(spark[group] ?? {}), [name]: value };
    }
  }
  return Object.keys(spark).length > 0 ? { spark } : {};
}

/** Whether a configuration change touches a machine-scoped setting (the server restarts). */
export function affectsMachineSettings(affects: (section: string) => boolean): boolean {
  return MACHINE_SETTINGS.some((key) => affects(`spark.${key}`));
}

/** Whether a `workspace/configuration` item asks for the whole `spark` section. */
export function isSparkSection(section: string | undefined): boolean {
  return section === 'spark';
}
