/** Timestamps as plain strings: state keeps ISO text, never a mutable Date. */
export const nowIso = (): string => new Date().toISOString();
/** "08:14:03" in the user's locale, for messages. */
export const timeOf = (iso: string): string => new Date(iso).toLocaleTimeString();
