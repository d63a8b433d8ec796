//! mfl-particles
