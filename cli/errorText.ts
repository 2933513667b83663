/**
 * What the CLI prints for a failure without --json: the code and the technical message, then the line that says what
 * to do — the same localized action the app's windows show for that code (contract/messages.ts), in the language of
 * the shell's locale. A command that needs a machine configuration but finds none says how to get one.
 */
import * as fs from 'node:fs';
import { LockstepError } from '../contract/errors';
import { Locale, localizeError } from '../contract/messages';
import { DEFAULT_CONFIG_FILE } from './paths';

const WHAT_TO_DO: Record<Locale, string> = { en: 'what to do', de: 'was tun', fr: 'que faire' };

/** The locale of the shell (LC_ALL, then LC_MESSAGES, then LANG); English unless it names German or French. */
export function cliLocale(env: NodeJS.ProcessEnv): Locale {
  const tag = (env['LC_ALL'] || env['LC_MESSAGES'] || env['LANG'] || '').toLowerCase();
  return tag.startsWith('de') ? 'de' : tag.startsWith('fr') ? 'fr' : 'en';
}

export function humanErrorText(e: LockstepError, locale: Locale): string {
  return `error ${e.code}: ${e.message}\n${WHAT_TO_DO[locale]}: ${localizeError(e.toInfo(), locale).action}\n`;
}

export type ConfigSource = '--config' | 'LOCKSTEP_CONFIG' | 'default';

/**
 * The configuration named (or defaulted to) does not exist: E_CONFIG_MISSING instead of "cannot be read (ENOENT)",
 * whose action says how to get one. Anything else — including an unreadable or broken file — stays as it was.
 */
export function explainMissingConfig(e: LockstepError, configPath: string, source: ConfigSource): LockstepError {
  if (e.code !== 'E_CONFIG_INVALID' || e.details['file'] !== configPath || fs.existsSync(configPath)) return e;
  const from = source === 'default' ? `the default, ./${DEFAULT_CONFIG_FILE} in the current folder` : `named by ${source}`;
  return new LockstepError('E_CONFIG_MISSING', `There is no machine configuration at ${configPath} (${from}).`, { file: configPath }, { cause: e });
}
