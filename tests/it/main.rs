//! Integration tests: one binary, each test starting its own service on port 0 with its own
//! temporary folder.

mod client;
mod common;
mod dev;
mod moto;
mod openapi;
mod token_service;
mod verifier;
