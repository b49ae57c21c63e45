/** Parses a dotenv file as compose does for the forms we use: KEY=value, comments, optional quotes. */
export function parseDotEnv(text: string, name = '.env'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`${name} line ${index + 1} is not KEY=value: ${raw}`);
    const [, key, value] = match as unknown as [string, string, string];
    env[key] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}
