/** Opens the update service for the workstation-side feed commands (check, download). */
import { loadMachineConfig } from '../../electron/engine/config';
import { platformOf } from '../../electron/engine/feed/context';
import { openUpdateService } from '../../electron/engine/feed/session';
import { UpdateService } from '../../electron/engine/updateService';
import { CommandContext } from '../command';
import { defaultLogDir } from '../paths';

export function updateServiceFor(ctx: CommandContext): Promise<UpdateService> {
  const config = loadMachineConfig(ctx.configPath);
  // The CLI's entry is where the platform is chosen (ARCHITECTURE.md: never scattered through the engine).
  return openUpdateService(config, { secrets: ctx.secrets, platform: platformOf(process.platform), defaultLogDir: defaultLogDir(process.platform, process.env) });
}
