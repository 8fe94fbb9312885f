//! Embedding coldstart: build a snapshot, start a pool, render, reload from memory.
//! Runs with the slim library: `cargo run --no-default-features --example embed`.
use coldstart::{Bundle, Engine, EngineConfig, IsolatePool};

const APP: &str = r#"
globalThis.__rex_render_page = (route) => JSON.stringify({ body: `<h1>${VERSION} ${route}</h1>`, head: "" });
globalThis.__rex_get_server_side_props = () => "{}";
globalThis.__rex_get_static_props = () => "{}";"#;

fn main() -> coldstart::Result<()> {
    let engine = Engine::init(EngineConfig::default())?;
    let store = tempfile::tempdir().expect("a temporary store");
    let bundle =
        |version: &str| Bundle::new("app.js", format!("const VERSION = {version:?};{APP}"));
    let pool = IsolatePool::builder(&engine)
        .bundle(bundle("v1"))
        .store(store.path())
        .workers(2)
        .build()?;
    assert_eq!(pool.render_blocking("/", "{}")?.body, "<h1>v1 /</h1>");
    pool.reload_bundle(bundle("v2"))?;
    assert_eq!(
        pool.render_blocking("/about", "{}")?.body,
        "<h1>v2 /about</h1>"
    );
    println!("rendered from snapshot generation {}", pool.generation());
    Ok(())
}
