//! Unit tests for evaluation.
