const SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A duration flag as the commands take it, one number and one unit: `90s`, `15m`, `2h`, `7d`
 * (only the units in `units`); its seconds, or undefined when it is not one.
 */
export function parseDurationSeconds(value: string, units = 'smhd'): number | undefined {
  const match = /^(\d+)([a-z])$/.exec(value.trim());
  if (!match || !units.includes(match[2] as string)) return undefined;
  return Number(match[1]) * (SECONDS[match[2] as string] as number);
}
