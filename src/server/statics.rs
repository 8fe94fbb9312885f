//! Client assets: folders mounted at URL prefixes (`serve --static /assets=dist/client`), served
//! by tower-http's `ServeDir` — content types, `Last-Modified` and 304s, `Range` requests,
//! precompressed `.br`/`.gz` siblings, no path escapes — plus a long-lived `Cache-Control` for
//! file names that carry a content hash.

use std::path::{Path, PathBuf};

use hyper::header::{HeaderValue, CACHE_CONTROL};
use hyper::{Request, Response, StatusCode};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::error::{Error, Result};

/// `Cache-Control` of a file whose name carries a content hash.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of any other static file: cache, but revalidate (`Last-Modified`).
pub const REVALIDATE: &str = "public, max-age=0, must-revalidate";

/// A folder served at a URL prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticMount {
    /// URL prefix without a trailing slash (`""` for the root).
    pub prefix: String,
    /// The folder.
    pub dir: PathBuf,
}

impl std::str::FromStr for StaticMount {
    type Err = Error;

    /// `DIR` (served at `/`) or `PREFIX=DIR`, e.g. `/assets=dist/client/assets`.
    fn from_str(text: &str) -> Result<Self> {
        let (prefix, dir) = match text.split_once('=') {
            Some((prefix, dir)) => (prefix, dir),
            None => ("/", text),
        };
        if !prefix.starts_with('/') {
            return Err(Error::Invalid(format!(
                "--static `{text}`: the URL prefix must start with `/`"
            )));
        }
        if dir.is_empty() {
            return Err(Error::Invalid(format!("--static `{text}`: no folder")));
        }
        Ok(StaticMount {
            prefix: prefix.trim_end_matches('/').to_string(),
            dir: PathBuf::from(dir),
        })
    }
}

impl StaticMount {
    /// The path below the mount for a request path, if the request is under the prefix.
    fn strip<'p>(&self, path: &'p str) -> Option<&'p str> {
        let rest = path.strip_prefix(&self.prefix)?;
        (rest.starts_with('/')).then_some(rest)
    }
}

/// Whether the last path segment names a content-hashed file: a `.`/`-`/`_`-separated token of
/// at least 8 letters and digits that mixes cases or holds a digit (`start.Dc6LPmib.js`,
/// `index-BfK3z9aQ.css`, `chunk-3f9a2c1d.js`), or a SvelteKit `/immutable/` path.
pub fn is_hashed(path: &str) -> bool {
    if path.contains("/immutable/") {
        return true;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = match name.find('.') {
        Some(first_dot) if first_dot > 0 => {
            // Drop the extension(s): `a.Dc6LPmib.js` → `a.Dc6LPmib`; `x.js.map` → `x`.
            let mut stem = name;
            while let Some((head, ext)) = stem.rsplit_once('.') {
                if ext.len() <= 4 && ext.chars().all(|c| c.is_ascii_lowercase()) && !head.is_empty()
                {
                    stem = head;
                } else {
                    break;
                }
            }
            stem
        }
        _ => name,
    };
    stem.split(['.', '-', '_']).skip(1).any(|token| {
        token.len() >= 8
            && token.chars().all(|c| c.is_ascii_alphanumeric())
            && (token.chars().any(|c| c.is_ascii_digit())
                || (token.chars().any(|c| c.is_ascii_uppercase())
                    && token.chars().any(|c| c.is_ascii_lowercase())))
    })
}

/// Serves `request` from the first mount whose prefix it is under, or `None` when no mount has
/// the file (the app answers it then).
pub async fn serve<B>(
    mounts: &[StaticMount],
    request: &Request<B>,
) -> Option<Response<super::http::ResponseBody>> {
    use http_body_util::BodyExt;
    let path = request.uri().path();
    for mount in mounts {
        let Some(rest) = mount.strip(path) else {
            continue;
        };
        let mut uri = rest.to_string();
        if let Some(query) = request.uri().query() {
            uri.push('?');
            uri.push_str(query);
        }
        let mut inner = Request::builder()
            .method(request.method())
            .uri(uri)
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .ok()?;
        *inner.headers_mut() = request.headers().clone();
        let service = ServeDir::new(&mount.dir)
            .precompressed_br()
            .precompressed_gzip()
            .append_index_html_on_directories(false);
        let response = match service.oneshot(inner).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
        if matches!(
            response.status(),
            StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
        ) {
            continue;
        }
        let (mut parts, body) = response.into_parts();
        if parts.status.is_success() || parts.status == StatusCode::NOT_MODIFIED {
            let policy = if is_hashed(rest) {
                IMMUTABLE
            } else {
                REVALIDATE
            };
            parts
                .headers
                .insert(CACHE_CONTROL, HeaderValue::from_static(policy));
        }
        let body = body.map_err(std::io::Error::other).boxed_unsync();
        return Some(Response::from_parts(parts, body));
    }
    None
}

/// Checks that every mounted folder exists (at start-up, so a typo fails fast).
///
/// # Errors
/// A folder is missing or not a folder.
pub fn check(mounts: &[StaticMount]) -> Result<()> {
    for mount in mounts {
        if !Path::new(&mount.dir).is_dir() {
            return Err(Error::Invalid(format!(
                "--static {}={}: not a folder",
                if mount.prefix.is_empty() {
                    "/"
                } else {
                    &mount.prefix
                },
                mount.dir.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        for hashed in [
            "/_app/immutable/entry/start.Dc6LPmib.js",
            "/assets/index-BfK3z9aQ.css",
            "/chunk-3f9a2c1d.js",
            "/x/app.8f3a2b1c.js.map",
        ] {
            assert!(is_hashed(hashed), "{hashed}");
        }
        for plain in [
            "/favicon.ico",
            "/main.css",
            "/jquery-3.7.1.js",
            "/react-dom.production.min.js",
            "/robots.txt",
            "/assets/background-image.png",
        ] {
            assert!(!is_hashed(plain), "{plain}");
        }
    }

    #[test]
    fn mounts_parse_and_match_on_segment_boundaries() {
        let mount: StaticMount = "/assets=dist/client".parse().unwrap();
        assert_eq!(mount.prefix, "/assets");
        assert_eq!(mount.strip("/assets/a.js"), Some("/a.js"));
        assert_eq!(mount.strip("/assetsx/a.js"), None);
        let root: StaticMount = "public".parse().unwrap();
        assert_eq!(root.prefix, "");
        assert_eq!(root.strip("/favicon.ico"), Some("/favicon.ico"));
        assert!("assets=dir".parse::<StaticMount>().is_err());
    }
}
