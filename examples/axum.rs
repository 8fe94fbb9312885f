//! coldstart inside an existing tokio web app (axum): `/ssr/*` renders pages from a pool of
//! snapshot-restored isolates; the app's other routes stay its own.
//!
//! `cargo run --example axum` serves on 127.0.0.1:3001; `-- --self-test` sends one request
//! through the router and exits (the test suite runs that).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use coldstart::{Bundle, Engine, EngineConfig, Error, IsolatePool};

const APP: &str = r#"
globalThis.__rex_render_page = (route, props) => {
  if (route === "/missing") throw new Error("Page not found: " + route);
  return JSON.stringify({ body: "<main>SSR of " + route + "</main>", head: "" });
};
globalThis.__rex_get_server_side_props = () => "{}";
globalThis.__rex_get_static_props = () => "{}";
"#;

async fn page(
    State(pool): State<IsolatePool>,
    Path(rest): Path<String>,
) -> Result<Html<String>, (StatusCode, String)> {
    match pool.render(&format!("/{rest}"), "{}").await {
        Ok(page) => Ok(Html(page.body)),
        Err(Error::PageNotFound { route }) => {
            Err((StatusCode::NOT_FOUND, format!("no page {route}")))
        }
        Err(error) => Err((StatusCode::INTERNAL_SERVER_ERROR, error.to_string())),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let engine = Engine::init(EngineConfig::default())?;
    let store = tempfile::tempdir()?;
    let pool = IsolatePool::builder(&engine)
        .bundle(Bundle::new("app.js", APP))
        .store(store.path())
        .build()?;
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/ssr/{*rest}", get(page))
        .with_state(pool);
    if std::env::args().any(|a| a == "--self-test") {
        use tower::ServiceExt;
        for (path, status, body) in [
            ("/ssr/blog/1", 200, "<main>SSR of /blog/1</main>"),
            ("/ssr/missing", 404, "no page /missing"),
            ("/health", 200, "ok"),
        ] {
            let request = axum::http::Request::get(path).body(axum::body::Body::empty())?;
            let response = app.clone().oneshot(request).await?;
            assert_eq!(response.status().as_u16(), status, "{path}");
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
            assert_eq!(std::str::from_utf8(&bytes)?, body, "{path}");
        }
        println!("self-test passed");
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
