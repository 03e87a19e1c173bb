"""IoT ingestion: the device registry, payload formats, the ingest core, HTTP transport, health, rollups."""
