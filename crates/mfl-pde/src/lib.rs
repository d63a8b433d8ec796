//! mfl-pde
