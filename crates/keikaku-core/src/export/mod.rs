//! Writers of open data: the formats citizens, journalists and researchers download.
//!
//! Every format writes the same tables ([`tables`]); a writer turns them into bytes and does
//! not decide file names or where the bytes go. The canonical JSON lives in
//! [`crate::canonical`] because it is also an import format.

pub mod csv;
pub mod datapackage;
pub mod tables;
pub mod xlsx;
