//! Unit tests for the YAML reader.
