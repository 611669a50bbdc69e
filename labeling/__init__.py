"""The labeling service (see labeling/README.md). Its topic contracts are in services.contracts."""
