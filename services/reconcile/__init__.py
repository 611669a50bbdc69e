"""Recovery: documents that entered the stream and never reached a terminal place are found
in the database and re-driven from their stored bytes, or dead-lettered when that cannot help."""
