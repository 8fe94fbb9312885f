//! Snapshots: [`builder`] evaluates polyfills + bundle in a snapshot creator, [`format`] defines
//! the file, [`store`] keeps files content-addressed, [`mapped`] verifies and maps them.

pub mod builder;
pub mod format;
pub mod mapped;
pub mod store;

pub use builder::{
    snapshot_key, BuildOptions, BuiltSnapshot, FunctionCode, HygieneReport, KeyInputs,
    SnapshotBuilder, WarmupCall,
};
pub use format::{Header, Metadata};
pub use mapped::{MapOptions, Snapshot};
pub use store::{GcReport, Loaded, SnapshotStore, DEFAULT_STORE_DIR};
