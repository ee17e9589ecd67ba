import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * Where the CLI finds the API and its key: flags first, then the environment
 * (HERALD_URL, HERALD_API_KEY), then a named profile of the config file
 * (HERALD_CONFIG, else $XDG_CONFIG_HOME/herald/config.json, else ~/.config/herald/config.json).
 */

export const DEFAULT_URL = 'http://127.0.0.1:8080';

const profileSchema = z.strictObject({ url: z.string().optional(), apiKey: z.string().optional() });
const configFileSchema = z.strictObject({ profiles: z.record(z.string(), profileSchema) });

export interface ConnectionFlags {
  url?: string;
  apiKey?: string;
  profile?: string;
}

export interface Connection {
  url: string;
  apiKey: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HERALD_CONFIG) return env.HERALD_CONFIG;
  const base = env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config');
  return path.join(base, 'herald', 'config.json');
}

/** The profile asked for; a missing file is no error unless a profile was named explicitly. */
function readProfile(file: string, name: string, explicit: boolean): z.infer<typeof profileSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !explicit) return {};
    throw new Error(`cannot read the config file ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(
      `${file} is not a Herald config file: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`,
    );
  const profile = parsed.data.profiles[name];
  if (!profile && explicit) throw new Error(`no profile "${name}" in ${file}`);
  return profile ?? {};
}

/** A variable set blank (`HERALD_API_KEY=`, or docker-compose filling in an unset one) counts as unset, as HERALD_CONFIG does. */
const setting = (value: string | undefined): string | undefined => (value?.trim() ? value : undefined);

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const given = { url: flags.url ?? setting(env.HERALD_URL), apiKey: flags.apiKey ?? setting(env.HERALD_API_KEY) };
  const name = flags.profile ?? setting(env.HERALD_PROFILE);
  // The file is read only when it could decide something, or when --profile asks for it: with
  // the URL and the key given, a broken or missing file stops no command.
  const needed = given.url === undefined || given.apiKey === undefined || flags.profile !== undefined;
  const profile = needed ? readProfile(configPath(env), name ?? 'default', name !== undefined) : {};
  const url = given.url ?? profile.url ?? DEFAULT_URL;
  const apiKey = given.apiKey ?? profile.apiKey;
  if (!apiKey) throw new Error(`no API key: give --api-key, set HERALD_API_KEY, or add one to a profile in ${configPath(env)}`);
  return { url, apiKey };
}
