//! The layer between a config and a run, shared by the commands: each submodule resolves and
//! checks one kind of run (PDE, particles, N-sweep, stationary state) into the numerics crates'
//! types. Commands import from here, never from each other. (The typed `Scenario` of issue 12,
//! with one `Arc<MeanField>` and no TOML round trips, is to replace this layer and move into
//! mfl-io.)

pub mod compare;
pub mod particles;
pub mod pde;
pub mod stationary;
