// The per-language switch, `spark.completion.languages`: the same rules as the server's
// (`language_enabled`: the language's entry, else "*", else on). Pure, so it is unit-tested.

export type LanguageMap = Readonly<Record<string, boolean>>;

/** Whether completions run in `languageId` under `map`. */
export function languageEnabled(map: LanguageMap | undefined, languageId: string): boolean {
  const entries = map ?? {};
  if (typeof entries[languageId] === 'boolean') {
    return entries[languageId];
  }
  return typeof entries['*'] === 'boolean' ? entries['*'] : true;
}

/** A copy of `map` with `languageId` switched to `enabled` (other entries unchanged). */
export function withLanguage(map: LanguageMap | undefined, languageId: string, enabled: boolean): Record<string, boolean> {
  return { ...(map ?? {}), [languageId]: enabled };
}
