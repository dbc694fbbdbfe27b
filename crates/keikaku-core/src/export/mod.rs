//! Writers of open data: the formats citizens, journalists and researchers download.
//!
//! Each writer turns editions into bytes; it does not decide file names or where the bytes
//! go. The canonical JSON lives in [`crate::canonical`] because it is also an import format.

pub mod csv;
