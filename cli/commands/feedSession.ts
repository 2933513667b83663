/** Opens the update service for the workstation-side feed commands (check, download). */
import { loadMachineConfig } from '../../kernel/config';
import { openUpdateService } from '../../engine/feed/openUpdateService';
import { UpdateService } from '../../engine/updateService';
import { CommandContext } from '../command';

export function updateServiceFor(ctx: CommandContext): Promise<UpdateService> {
  const config = loadMachineConfig(ctx.configPath);
  return openUpdateService(config, { host: ctx.host });
}
