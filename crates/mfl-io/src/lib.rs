//! mfl-io
