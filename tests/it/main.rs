//! Integration tests: real HTTP on 127.0.0.1 from servers the tests start, real SQLite files
//! in temp dirs, and the real binary end to end.

mod architecture;
mod cli;
mod crash;
mod data_safety;
mod docs;
mod e2e;
mod fidelity;
mod filters;
mod formats;
mod fulltext;
mod fuzz;
mod golden;
mod hostile;
mod near;
mod operations;
mod pipeline;
mod polling;
mod published;
mod readers;
mod service;
mod stories;
mod support;
mod url_policy;
mod websub;
