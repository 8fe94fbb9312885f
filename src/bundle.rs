//! A server bundle: one classic script, named after its file.

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};

/// The user's server bundle (polyfills are not part of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    name: String,
    source: Arc<str>,
}

impl Bundle {
    /// A bundle from memory. `name` is what stack traces and errors show (e.g. `app.js`).
    pub fn new(name: impl Into<String>, source: impl Into<Arc<str>>) -> Self {
        Bundle {
            name: name.into(),
            source: source.into(),
        }
    }

    /// Reads a bundle file; its name is the file name.
    ///
    /// # Errors
    /// The file cannot be read or is not UTF-8.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io("cannot read bundle", path, e))?;
        let source = String::from_utf8(bytes).map_err(|e| {
            Error::Invalid(format!(
                "bundle `{}` is not valid UTF-8: {e}",
                path.display()
            ))
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(Bundle::new(name, source))
    }

    /// The bundle's name (file name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The JS source.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Size of the source in bytes.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// True for an empty source.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }
}
