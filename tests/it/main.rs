//! Integration tests: one binary, each test starting its own service on port 0.
