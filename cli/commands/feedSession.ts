/** Opens the update service for the workstation-side feed commands (check, download). */
import { loadMachineConfig } from '../../kernel/config';

import { openUpdateService } from '../../engine/feed/openUpdateService';
import { UpdateService } from '../../engine/updateService';
import { CommandContext } from '../command';
import { defaultLogDir } from '../paths';
import { platformOf } from '../../kernel/catalogSchema';

export function updateServiceFor(ctx: CommandContext): Promise<UpdateService> {
  const config = loadMachineConfig(ctx.configPath);
  // The CLI's entry is where the platform is chosen (ARCHITECTURE.md: never scattered through the engine).
  return openUpdateService(config, { secrets: ctx.secrets, platform: platformOf(process.platform), defaultLogDir: defaultLogDir(process.platform, process.env) });
}
