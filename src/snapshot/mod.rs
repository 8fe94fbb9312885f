//! Snapshots: [`builder`] evaluates polyfills + bundle in a snapshot creator, [`format`](mod@format) defines
//! the file, [`store`] keeps files content-addressed, [`mapped`] verifies and maps them.

pub mod builder;
mod code_cache;
pub mod format;
pub mod hygiene;
pub mod mapped;
pub mod store;

pub use builder::{
    default_build_limits, snapshot_key, BuildOptions, BuiltSnapshot, Compile, FunctionCode,
    KeyInputs, SnapshotBuilder, WarmupCall,
};
pub use format::{Header, Metadata};
pub use hygiene::HygieneReport;
pub use mapped::{MapOptions, Snapshot, Verification, VerifiedRecord, VerifyPolicy};
pub use store::{GcReport, Loaded, SnapshotStore, DEFAULT_STORE_DIR};
