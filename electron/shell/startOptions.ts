/**
 * The options of lockstep/electron start(), checked under plain Node (a wrong one is E_USAGE naming it). Every option
 * has a safe default; see each field.
 */
import { z } from 'zod';
import { configOption, fn, secretStore } from '../../engine/api/options';
import { SchemaOptionSchema } from '../../engine/clientSchema/hostOption';

export const StartOptionsSchema = z
  .object({
    /**
     * The machine configuration (a file, or the same content as an object, whose relative paths then resolve against
     * app.getPath('userData')). Default: --config=FILE, else LOCKSTEP_CONFIG, else lockstep.machine.json beside the
     * packaged app's executable (IT's file, S22).
     */
    config: configOption.optional(),
    /** The name Lockstep's windows show. Default: app.getName(). */
    product: z.string().trim().min(1).max(100).optional(),
    /** Log folder when the configuration names none. Default: app.getPath('logs'). */
    logDir: z.string().trim().min(1).optional(),
    /** The per-user settings file (check at start, language). Default: lockstep-settings.json in app.getPath('userData'). */
    settingsFile: z.string().trim().min(1).optional(),
    /** Language of Lockstep's windows. Default: the user's setting, else the system's (de, en, fr; else en). */
    locale: z.enum(['de', 'en', 'fr']).optional(),
    /** Database and proxy passwords. Default: the OS keychain. */
    secrets: secretStore.optional(),
    /** Run the database migrations at start (an embedded SQLite database; shared servers are migrated by IT). Default: false. */
    migrate: z.boolean().optional(),
    /** Use the system proxy for the feed when the configuration names none (S12). Default: true. */
    systemProxy: z.boolean().optional(),
    /** Restart into the installed version. Default: app.relaunch() then app.exit(0), after the `restart` event. */
    relaunch: fn<() => void>().optional(),
    /** The app's own database migrations: registered in code ({ migrations: [{ name, level, up(knex) }] }) and where the packaged ones lie. Default: the package's only. */
    schema: SchemaOptionSchema.optional(),
  })
  .strict();

export type StartOptions = z.input<typeof StartOptionsSchema>;
