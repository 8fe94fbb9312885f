//! Bundle sources kept outside the V8 heap.
//!
//! V8 keeps a script's source as a string in its heap, and a snapshot carries that string: every
//! restore would copy the whole bundle text into the new heap, though after an eager build V8
//! reads it only to print a function (`toString`), to place a stack frame, or to compile a
//! function again. An *external* string keeps its characters outside the heap, in memory the
//! embedder owns, and V8 serialises an external string whose resource is one of the isolate's
//! external references as just that reference's index. So the builder makes each bundle source
//! such a string and stores the characters after the V8 blob in the snapshot file (the "source
//! section", covered by the payload hash); a restore registers resources pointing into the
//! mapped section at the same indices. The source is never copied, and the kernel reads its pages
//! only when V8 looks at them.
//!
//! Section layout (little endian; offsets from the section's start, characters 8-byte aligned):
//!
//! ```text
//! offset  size       field
//!      0     8       magic "COLDSRC1"
//!      8     8       source count N
//!     16    24 × N   per source: offset, length in characters, bytes per character
//!    ...             the characters: Latin-1 (1 byte each) when every character of the source
//!                    is in U+0000..=U+00FF, otherwise UTF-16 (2 bytes each), as V8 stores them
//! ```

use std::collections::BTreeMap;

const MAGIC: &[u8; 8] = b"COLDSRC1";
const TABLE_AT: usize = 16;
const ENTRY_LEN: usize = 24;
/// V8's longest string (`v8::String::kMaxLength` on 64-bit targets).
const MAX_CHARS: usize = (1 << 29) - 24;

/// The V8 strings of a build's sources, by name (see [`ExternalSources::strings`]).
#[derive(Default)]
pub(crate) struct SourceStrings(BTreeMap<String, SourceString>);

struct SourceString {
    string: v8::Global<v8::String>,
    /// For a two-byte source: the resource the heap string is to be handed over to.
    two_byte: Option<&'static v8::OneByteConst>,
}

impl SourceStrings {
    /// The string made for the source `name`, or else a heap copy of `text` (`None` if that is
    /// too long for V8).
    pub(crate) fn get_or_copy<'s>(
        &self,
        scope: &mut v8::HandleScope<'s, ()>,
        name: &str,
        text: &str,
    ) -> Option<v8::Local<'s, v8::String>> {
        match self.0.get(name) {
            Some(source) => Some(v8::Local::new(scope, &source.string)),
            None => v8::String::new(scope, text),
        }
    }

    /// Hands the two-byte sources over to their resources, once a full collection moved them to
    /// the old generation (the builder's last one before the blob: a collection made earlier
    /// leaves blobs that differ from build to build). A source V8 refuses to convert stays in
    /// the heap (and in the blob), which is slower to restore but the same.
    pub(crate) fn externalize_two_byte(&self, scope: &mut v8::HandleScope<()>) {
        for (name, source) in &self.0 {
            let Some(resource) = source.two_byte else {
                continue;
            };
            let string = v8::Local::new(scope, &source.string);
            let isolate: &mut v8::Isolate = scope;
            // SAFETY: `string` is a live handle in `isolate` (its address is the C++ `this`); the
            // resource holds exactly the string's characters and outlives the isolate (the
            // contract of `ExternalSources::for_build`, which made it); V8 owns nothing of it
            // (its `Dispose` does nothing).
            let external = unsafe { v8_string_make_external_two_byte(&*string, isolate, resource) };
            if !external {
                tracing::debug!(source = name, "V8 kept a two-byte source in its heap");
            }
        }
    }
}

/// A source's characters, as V8 stores them.
enum Chars {
    Latin1(Box<[u8]>),
    Utf16(Box<[u16]>),
}

impl Chars {
    /// `text` as Latin-1 if every character is in U+0000..=U+00FF, as UTF-16 otherwise; `None`
    /// if it is empty or longer than V8's longest string.
    fn of(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > MAX_CHARS * 3 {
            return None;
        }
        let latin1: Option<Box<[u8]>> = text.chars().map(|c| u8::try_from(c).ok()).collect();
        let chars = match latin1 {
            Some(latin1) => Chars::Latin1(latin1),
            None => Chars::Utf16(text.encode_utf16().collect()),
        };
        (chars.len() <= MAX_CHARS).then_some(chars)
    }

    fn len(&self) -> usize {
        match self {
            Chars::Latin1(latin1) => latin1.len(),
            Chars::Utf16(units) => units.len(),
        }
    }

    fn width(&self) -> usize {
        match self {
            Chars::Latin1(_) => 1,
            Chars::Utf16(_) => 2,
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Chars::Latin1(latin1) => latin1,
            Chars::Utf16(units) => {
                // SAFETY: the bytes of initialised `u16`s, for as long as `units` is borrowed.
                unsafe { std::slice::from_raw_parts(units.as_ptr().cast(), units.len() * 2) }
            }
        }
    }
}

/// One external-string resource: V8 reads the characters through it, wherever they are.
///
/// It is a `v8::OneByteConst`, the C++ `ExternalOneByteStringResource` rusty_v8 lays out with a
/// vtable whose `Dispose` does nothing (the characters belong to us, not V8). For UTF-16
/// characters the same object serves as a C++ `ExternalStringResource`: the two classes declare
/// the same virtual functions in the same order and the same cached-data field, and differ only
/// in the pointee type of `data()`, which returns the address stored here.
struct Resource {
    v8: Box<v8::OneByteConst>,
    two_byte: bool,
    /// The characters' bytes (1 or 2 per character), for tests to check what it points at.
    #[cfg(test)]
    bytes: &'static [u8],
}

// SAFETY: a resource never changes after it is made and points at characters that never change;
// V8 only reads it (`data`, `length`) or calls its no-op methods, from whichever thread holds the
// isolate. `OneByteConst` is `Sync` for the same reason; it is not `Send` only because it holds
// raw pointers.
unsafe impl Send for Resource {}

impl Resource {
    /// A resource for the characters in `bytes`, `width` bytes each (1: Latin-1; 2: UTF-16 in
    /// native byte order, 2-aligned).
    ///
    /// # Safety
    /// `bytes` must stay valid and unchanged for as long as the resource is in use: while any
    /// isolate holds a string made from it or was created with its reference. It must hold only
    /// whole characters of that width.
    unsafe fn new(bytes: &[u8], width: usize) -> Self {
        // SAFETY: per this function's contract the characters outlive every use V8 makes of them.
        let bytes: &'static [u8] =
            unsafe { std::slice::from_raw_parts(bytes.as_ptr(), bytes.len()) };
        let chars = bytes.len() / width;
        // SAFETY: `OneByteConst` stores the slice's address and the given length and hands them
        // to V8 as `data()` and `length()`. One byte per character: Latin-1, what V8 reads a
        // one-byte string's characters as. Two: `chars` UTF-16 units start at that address (the
        // slice is only the first half of their bytes), which V8 reads through the resource
        // used as an `ExternalStringResource` (see the type's documentation).
        let v8 = Box::new(unsafe {
            v8::String::create_external_onebyte_const_unchecked(&bytes[..chars])
        });
        Resource {
            v8,
            two_byte: width == 2,
            #[cfg(test)]
            bytes,
        }
    }

    fn reference(&self) -> v8::ExternalReference {
        v8::ExternalReference {
            pointer: std::ptr::from_ref::<v8::OneByteConst>(&self.v8)
                .cast_mut()
                .cast(),
        }
    }
}

unsafe extern "C" {
    /// `bool v8::String::MakeExternal(v8::Isolate*, v8::String::ExternalStringResource*)`, a
    /// member function of V8's C++ API (`this` comes first) that rusty_v8 does not bind: the only
    /// way to make a two-byte external string from a resource we lay out ourselves.
    #[link_name = "_ZN2v86String12MakeExternalEPNS_7IsolateEPNS0_22ExternalStringResourceE"]
    fn v8_string_make_external_two_byte(
        this: *const v8::String,
        isolate: *mut v8::Isolate,
        resource: *const v8::OneByteConst,
    ) -> bool;
}

/// The bundle sources of one snapshot as external-string resources, in the order of their
/// external references. At build they point at characters this value owns; after a restore, into
/// its copy of the snapshot's source section.
#[derive(Default)]
pub(crate) struct ExternalSources {
    resources: Vec<Resource>,
    /// Build only: each resource's source name.
    names: Vec<String>,
    /// Build only: the characters the resources point at.
    owned: Vec<Chars>,
    /// Restore only: the copy of the source section the resources point into.
    _copy: Option<memmap2::Mmap>,
}

impl ExternalSources {
    /// At build: an external resource for each non-empty source (`(name, text)`).
    ///
    /// # Safety
    /// The value must outlive every isolate [`ExternalSources::strings`] is called in or that is
    /// created with [`ExternalSources::references`] (for the builder: the snapshot creator).
    pub(crate) unsafe fn for_build<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut external = Self::default();
        for (name, text) in sources {
            let Some(chars) = Chars::of(text) else {
                continue;
            };
            external.owned.push(chars);
            let chars = external.owned.last().expect("just pushed");
            // SAFETY: the characters are owned by `external` (its boxed slice does not move with
            // it), which per this function's contract outlives every isolate using them.
            let resource = unsafe { Resource::new(chars.bytes(), chars.width()) };
            external.names.push(name.to_string());
            external.resources.push(resource);
        }
        external
    }

    /// The resources of a snapshot's source section, pointing into a copy of it this value owns
    /// (one per opened snapshot, shared by every isolate restored from it).
    ///
    /// A copy, not the mapped file: V8 reads a source whenever it needs it (a stack trace, a
    /// function's text) for as long as an isolate lives, and a read of a mapped file truncated
    /// meanwhile would kill the process (SIGBUS), whereas V8 is done with the blob itself once
    /// the isolate exists. (`coldstart call` makes it while V8 is still starting on its own
    /// thread.)
    ///
    /// # Errors
    /// A description of what is malformed.
    pub(crate) fn copied_from(section: &[u8]) -> Result<Self, String> {
        if section.is_empty() {
            return Ok(Self::default());
        }
        // Anonymous pages populated in one call (page aligned, so two-byte characters are
        // aligned): faulting them in one by one costs more than the copy itself.
        let mut copy = memmap2::MmapOptions::new()
            .len(section.len())
            .populate()
            .map_anon()
            .map_err(|e| {
                format!(
                    "cannot allocate {} bytes for its sources: {e}",
                    section.len()
                )
            })?;
        copy.copy_from_slice(section);
        let copy = copy
            .make_read_only()
            .map_err(|e| format!("cannot protect the copy of its sources: {e}"))?;
        // SAFETY: the characters are in `copy`, which the returned value owns (the mapping does
        // not move with it) and so keeps for as long as its references are in use.
        let resources = unsafe { resources_in(&copy)? };
        Ok(Self {
            resources,
            _copy: Some(copy),
            ..Self::default()
        })
    }

    /// How many sources are external.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.resources.len()
    }

    /// Their external references, to append (in this order) to the host functions' table.
    pub(crate) fn references(&self) -> impl Iterator<Item = v8::ExternalReference> + '_ {
        self.resources.iter().map(Resource::reference)
    }

    /// At build, before the bundle is compiled: the V8 string of every source, by name. A
    /// Latin-1 one is external from the start; a two-byte one is a heap copy until
    /// [`SourceStrings::externalize_two_byte`] (rusty_v8 makes two-byte external strings only
    /// from resources of its own, at no address the creator's references could name, and V8
    /// converts a heap string in place only once it is in the old generation).
    pub(crate) fn strings(&self, scope: &mut v8::HandleScope<()>) -> SourceStrings {
        let mut strings = SourceStrings::default();
        let sources = self.names.iter().zip(&self.resources).zip(&self.owned);
        for ((name, resource), chars) in sources {
            // SAFETY: `for_build`'s contract makes `self` (which owns the boxed resource and its
            // characters) outlive the isolate the string lives in.
            let v8_resource: &'static v8::OneByteConst =
                unsafe { &*std::ptr::from_ref::<v8::OneByteConst>(&resource.v8) };
            let string = match chars {
                Chars::Utf16(units) => {
                    v8::String::new_from_two_byte(scope, units, v8::NewStringType::Normal)
                }
                Chars::Latin1(_) => v8::String::new_from_onebyte_const(scope, v8_resource),
            };
            let Some(string) = string else { continue };
            let source = SourceString {
                string: v8::Global::new(scope, string),
                two_byte: resource.two_byte.then_some(v8_resource),
            };
            strings.0.insert(name.clone(), source);
        }
        strings
    }

    /// The source section to store after the V8 blob (empty when no source is external).
    pub(crate) fn section(&self) -> Vec<u8> {
        if self.owned.is_empty() {
            return Vec::new();
        }
        let mut section = Vec::new();
        section.extend_from_slice(MAGIC);
        section.extend_from_slice(&(self.owned.len() as u64).to_le_bytes());
        let mut offset = align8(TABLE_AT + ENTRY_LEN * self.owned.len());
        for chars in &self.owned {
            section.extend_from_slice(&(offset as u64).to_le_bytes());
            section.extend_from_slice(&(chars.len() as u64).to_le_bytes());
            section.extend_from_slice(&(chars.width() as u64).to_le_bytes());
            offset = align8(offset + chars.bytes().len());
        }
        for chars in &self.owned {
            section.resize(align8(section.len()), 0);
            section.extend_from_slice(chars.bytes());
        }
        section
    }
}

/// The resources of a source section.
///
/// # Safety
/// `section` must stay valid and unchanged for as long as any isolate created with references
/// to the returned resources lives.
unsafe fn resources_in(section: &[u8]) -> Result<Vec<Resource>, String> {
    if section.is_empty() {
        return Ok(Vec::new());
    }
    if section.len() < TABLE_AT || &section[..8] != MAGIC {
        return Err("no source table after the V8 blob".to_string());
    }
    let count = read_u64(section, 8);
    let table_end = usize::try_from(count)
        .ok()
        .and_then(|n| n.checked_mul(ENTRY_LEN))
        .and_then(|n| n.checked_add(TABLE_AT))
        .filter(|&end| end <= section.len())
        .ok_or_else(|| format!("{count} sources do not fit in {} bytes", section.len()))?;
    let mut resources = Vec::new();
    for at in (TABLE_AT..table_end).step_by(ENTRY_LEN) {
        let (offset, chars, width) = (
            read_u64(section, at),
            read_u64(section, at + 8),
            read_u64(section, at + 16),
        );
        let index = (at - TABLE_AT) / ENTRY_LEN;
        let width = match width {
            1 => 1,
            2 => 2,
            _ => return Err(format!("source {index} has {width} bytes per character")),
        };
        let range = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(chars).ok())
            .filter(|&(offset, chars)| offset >= table_end && offset % 8 == 0 && chars <= MAX_CHARS)
            .and_then(|(offset, chars)| Some(offset..offset.checked_add(chars * width)?))
            .filter(|range| range.end <= section.len())
            .ok_or_else(|| {
                format!("source {index} ({chars} characters at {offset}) is out of bounds")
            })?;
        let bytes = &section[range];
        if bytes.as_ptr().align_offset(width) != 0 {
            return Err(format!("source {index} is not aligned in memory"));
        }
        // SAFETY: per this function's contract the mapped characters outlive every isolate
        // using them; the builder wrote `chars` characters of `width` bytes there (the
        // payload hash was checked), aligned.
        resources.push(unsafe { Resource::new(bytes, width) });
    }
    Ok(resources)
}

/// Where the source section starts in a payload whose V8 blob is `startup_len` bytes long (the
/// next multiple of 8, so that characters can be aligned).
pub(crate) fn section_offset(startup_len: usize) -> usize {
    align8(startup_len)
}

fn align8(n: usize) -> usize {
    n.div_ceil(8) * 8
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip_through_the_section() {
        // SAFETY: no isolate uses these resources.
        let built = unsafe {
            ExternalSources::for_build([
                ("a.js", "let a = 'caf\u{e9}';"),
                ("b.js", "let b = '\u{2026}';"),
                ("c.js", ""),
                ("d.js", "d"),
            ])
        };
        assert_eq!(built.len(), 3, "every non-empty source is external");
        let read = ExternalSources::copied_from(&built.section()).expect("well formed");
        let found: Vec<(&[u8], bool)> = read
            .resources
            .iter()
            .map(|r| (r.bytes, r.two_byte))
            .collect();
        let ellipsis: Vec<u8> = "let b = '\u{2026}';"
            .encode_utf16()
            .flat_map(u16::to_ne_bytes)
            .collect();
        assert_eq!(
            found,
            [
                (b"let a = 'caf\xe9';".as_slice(), false),
                (ellipsis.as_slice(), true),
                (b"d".as_slice(), false)
            ]
        );
    }

    #[test]
    fn a_malformed_section_is_an_error_not_a_wild_read() {
        // SAFETY: no isolate uses these resources.
        let section = unsafe { ExternalSources::for_build([("a.js", "abc")]) }.section();
        for (at, value) in [(8, u64::MAX), (16, 1 << 40), (24, 1 << 40), (32, 2)] {
            let mut broken = section.clone();
            broken[at..at + 8].copy_from_slice(&value.to_le_bytes());
            assert!(ExternalSources::copied_from(&broken).is_err(), "at {at}");
        }
        assert!(ExternalSources::copied_from(b"garbage").is_err());
        assert_eq!(ExternalSources::copied_from(&[]).map(|s| s.len()), Ok(0));
    }
}
