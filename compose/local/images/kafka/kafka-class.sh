#!/bin/sh
# kafka-run-class.sh <main class> [args]: tools log WARN to stderr; KAFKA_HEAP_OPTS sizes the JVM.
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_OPTS:-} \
  -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties \
  -cp '/opt/kafka/libs/*' "$@"
