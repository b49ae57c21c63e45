import winston from 'winston';

export type Logger = winston.Logger;

/** JSON lines to stdout, one logger per process; child loggers add component fields. */
export function createLogger(options: { level: string; service: string; roles: readonly string[] }): Logger {
  return winston.createLogger({
    level: options.level,
    defaultMeta: { service: options.service, role: options.roles.join(',') },
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: true, cause: true }),
      winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
