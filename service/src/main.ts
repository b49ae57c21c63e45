import { ConfigError, loadConfig } from './config/config';
import { startService } from './startService';
import { createLogger } from './telemetry/logger';
import { logProcessWarnings } from './telemetry/processWarnings';

/** Process entry: validate config, start the roles, exit on signals. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`orderlab: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({
    level: config.log.level,
    service: config.service.name,
    roles: config.roles,
    version: config.service.version,
  });
  logProcessWarnings(logger);
  try {
    const service = await startService(config, logger);
    service.lifecycle.installSignalHandlers();
    // Logged only once signals are handled: supervisors and tests may signal right after this line.
    logger.info('service started', {
      roles: config.roles,
      httpPort: service.ports.http,
      grpcPort: service.ports.grpc,
      adminPort: service.ports.admin,
    });
  } catch (err) {
    logger.error('start-up failed', { err });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  }
}

void main();
