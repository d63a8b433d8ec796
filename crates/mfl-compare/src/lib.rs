//! mfl-compare
