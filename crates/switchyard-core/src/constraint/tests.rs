//! Unit tests for constraint matching.
