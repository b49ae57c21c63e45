/**
 * Loaded before the app: `node --require ./dist/service/src/telemetry/preload.js dist/service/src/main.js`.
 * It must run before express, pg, kafkajs and grpc are required so their instrumentations can
 * patch them. It reads its settings through the config module's own schema (loadTracingSettings);
 * the exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself. TELEMETRY_ENABLED=false
 * starts no SDK at all.
 */
import { loadTracingSettings } from '../config/config';
import { startTracing } from './tracing';

const settings = loadTracingSettings();
if (settings.enabled) startTracing(settings);
